//go:build !amd64 || purego

package nn

// adamVector has no vector kernel on this platform: the scalar loop does all the work.
func adamVector(w, g, m, v []float32, k *adamConsts) int { return 0 }
