//go:build !amd64 || purego

package nn

// No vector passes on this platform: the scalar loops do all the work.

func addRowsVector(dst, src []float32, rows, cols, dstStep, srcStep int) bool { return false }

func reluVector(z, a []float32) int                                         { return 0 }
func reluMaskVector(a, d []float32) int                                     { return 0 }
func maxIntoVector(dst []float32, am []int32, src []float32, off int32) int { return 0 }
