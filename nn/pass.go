package nn

import "math"

// The elementwise passes of ReLU and max pooling. Each has a vector version where the CPU has
// one (pass_amd64.s), which does the leading multiple of 8 values and computes exactly what
// these loops compute: the same bits on every machine. They work on the bits, without
// branches: half the signs of activations go each way, and a mispredicted branch per value
// cost more than the rest of a pass.

// relu writes max(z, +0) into a: z where its sign bit is clear, +0 where it is set (−0 and
// negative NaNs included).
func relu(z, a []float32) {
	a = a[:len(z)]
	for i := reluVector(z, a); i < len(z); i++ {
		b := math.Float32bits(z[i])
		a[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// reluMask zeroes d where a, a ReLU's output, is not positive: ReLU's gradient.
func reluMask(a, d []float32) {
	d = d[:len(a)]
	for i := reluMaskVector(a, d); i < len(a); i++ {
		keep := uint32(-int64(int32(math.Float32bits(a[i]))) >> 63) // all ones when a > +0
		d[i] = math.Float32frombits(math.Float32bits(d[i]) & keep)
	}
}

// maxInto keeps in dst the larger of dst and src, channel by channel, and in am the index
// (off plus the channel) of a src value taken: where src > dst, which leaves dst and am as
// they are for ties and NaNs.
func maxInto(dst []float32, am []int32, src []float32, off int32) {
	am = am[:len(dst)]
	src = src[:len(dst)]
	for ch := maxIntoVector(dst, am, src, off); ch < len(dst); ch++ {
		if v := src[ch]; v > dst[ch] {
			dst[ch], am[ch] = v, off+int32(ch)
		}
	}
}

// addRows adds row to each of the first rows rows of dst (a bias to a layer's outputs).
func addRows(dst, row []float32, rows int) {
	if addRowsVector(dst, row, rows, len(row), len(row), 0) {
		return
	}
	f := len(row)
	for r := range rows {
		d := dst[r*f : (r+1)*f]
		for j, b := range row {
			d[j] += b
		}
	}
}

// sumRows sets dst to the column sums of the rows×cols matrix m, adding the rows in order.
func sumRows(dst, m []float32, rows, cols int) {
	dst = dst[:cols]
	clear(dst)
	if addRowsVector(dst, m, rows, cols, 0, cols) {
		return
	}
	for r := range rows {
		for j, v := range m[r*cols : (r+1)*cols] {
			dst[j] += v
		}
	}
}
