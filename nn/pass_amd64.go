//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// hasAVX2 is whether the AVX2 passes can run.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func reluAVX2(z, a *float32, n int)

//go:noescape
func reluMaskAVX2(a, d *float32, n int)

//go:noescape
func maxIntoAVX2(dst *float32, am *int32, src *float32, n int, off int32)

//go:noescape
func addRowsAVX2(dst, src *float32, rows, cols, dstStep, srcStep int)

// The vector versions below do the leading multiple of 8 values and return how many.

func reluVector(z, a []float32) int {
	n := len(z) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	reluAVX2(&z[0], &a[0], n)
	return n
}

func reluMaskVector(a, d []float32) int {
	n := len(a) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	reluMaskAVX2(&a[0], &d[0], n)
	return n
}

func maxIntoVector(dst []float32, am []int32, src []float32, off int32) int {
	n := len(dst) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	maxIntoAVX2(&dst[0], &am[0], &src[0], n, off)
	return n
}

// addRowsVector does rows passes of dst[:cols] += src[:cols], dst moving on by dstStep values
// and src by srcStep after each (see addRowsAVX2), or nothing (false) when cols is not a
// multiple of 8 or the CPU lacks AVX2.
func addRowsVector(dst, src []float32, rows, cols, dstStep, srcStep int) bool {
	if !hasAVX2 || cols%8 != 0 || rows == 0 || cols == 0 {
		return false
	}
	_, _ = dst[(rows-1)*dstStep+cols-1], src[(rows-1)*srcStep+cols-1]
	addRowsAVX2(&dst[0], &src[0], rows, cols, dstStep, srcStep)
	return true
}
