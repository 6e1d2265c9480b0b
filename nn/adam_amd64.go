//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// hasAVX is whether adamAVX can run; OS support for the YMM state is part of HasAVX.
var hasAVX = cpu.X86.HasAVX

// adamAVX runs Adam's update on the first n values (n a multiple of 8) with 8-wide AVX.
//
//go:noescape
func adamAVX(wp, gp, mp, vp *float32, n int, k *adamConsts)

// adamVector updates as many leading values as the vector kernel handles and returns how many.
func adamVector(w, g, m, v []float32, k *adamConsts) int {
	n := len(g) &^ 7
	if !hasAVX || n == 0 {
		return 0
	}
	adamAVX(&w[0], &g[0], &m[0], &v[0], n, k)
	return n
}
