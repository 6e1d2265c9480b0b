// Package nn is loom's numeric core: feed-forward networks of dense, activation, dropout and
// batch-normalisation layers, trained by mini-batch gradient descent.
//
// Tensors are float32, row-major and batch-first: a batch of rows samples with d features is a
// []float32 of length rows*d. Every layer works on a whole batch at once, so that the work is a
// few matrix products (all through one internal function, backed by package nn/internal/gemm)
// plus one fused elementwise pass. Buffers are owned by the layers and reused, so a training
// step allocates nothing once the largest batch has been seen.
//
// Randomness (initial weights, shuffling, dropout masks) comes from PCG generators seeded from
// Spec.Seed and TrainConfig.Seed: the same seeds give bit-identical weights, training history
// and saved files on one machine. Training is single-threaded on purpose; loom runs trials in
// parallel instead.
//
// A Network is not safe for concurrent use: Predict and Fit reuse its internal buffers.
package nn
