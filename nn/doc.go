// Package nn is loom's numeric core: feed-forward networks of dense, activation, dropout and
// batch-normalisation layers, convolutions and pooling for images, embeddings, recurrent layers
// (simple RNN, LSTM, GRU), attention and transformer blocks for sequences, trained by
// mini-batch gradient descent.
//
// Tensors are float32, row-major and batch-first: a batch of rows samples with d features is a
// []float32 of length rows*d. Every layer works on a whole batch at once, so that the work is a
// few matrix products (all through one internal function, backed by package nn/internal/gemm)
// plus one fused elementwise pass. A sample may have a shape (channels-last [height, width,
// channels] for images, [time, features] for sequences) that the layers track when the network
// is built; it is still a flat row of the batch, so reshaping costs nothing. A convolution is
// im2col plus one product; a recurrent layer projects the inputs of all timesteps in one product
// and fuses its gates in one weight matrix, leaving one product with the hidden state per
// timestep; attention projects queries, keys and values in one product. Buffers are owned by the layers and reused, so a training
// step allocates nothing once the largest batch has been seen.
//
// Randomness (initial weights, shuffling, dropout masks) comes from PCG generators seeded from
// Spec.Seed and TrainConfig.Seed: the same seeds give bit-identical weights, training history
// and saved files on one machine. Training is single-threaded on purpose; loom runs trials in
// parallel instead.
//
// A Network is not safe for concurrent use: Predict and Fit reuse its internal buffers.
package nn
