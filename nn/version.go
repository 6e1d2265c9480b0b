package nn

import "github.com/loom-ml/loom/nn/internal/gemm"

// Version identifies what this package computes: it changes whenever the same spec, data and
// config can give different weights or predictions — a new release of the numerics, or
// another matrix kernel on this machine — so that a cache keyed on it misses instead of
// serving results this build would not produce.
var Version = "2/" + gemm.Kernel()
