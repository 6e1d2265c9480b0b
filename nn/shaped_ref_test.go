package nn

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
)

// tensor returns the saved (PyTorch-layout) values of the named tensor, in float64.
func tensor(t *testing.T, net *Network, name string) []float64 {
	t.Helper()
	for _, ten := range net.tensors {
		if ten.name == name {
			v := make([]float64, len(ten.data))
			for j := range v {
				v[j] = float64(ten.data[ten.index(j)])
			}
			return v
		}
	}
	t.Fatalf("no tensor %s", name)
	return nil
}

func maxAbsDiff(a []float32, b []float64) float64 {
	d := 0.0
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-b[i]))
	}
	return d
}

// TestConv2DMatchesDirectConvolution checks im2col + product against the textbook sum
// out[f, y, x] = b[f] + Σ w[f, c, i, j]·in[c, y·s−p+i, x·s−p+j] with PyTorch's weight layout,
// which also pins the channels-last ↔ [out, in, kh, kw] permutation of the saved tensor.
func TestConv2DMatchesDirectConvolution(t *testing.T) {
	const H, W, C, F, rows = 6, 5, 2, 3, 2
	net := mustNew(t, Spec{Inputs: H * W * C, Seed: 9, Layers: []LayerSpec{
		{Type: LayerReshape, Dims: []int{H, W, C}},
		{Type: LayerConv2D, Filters: F, Kernel: []int{3, 2}, Stride: []int{2, 2}, Padding: "1"},
	}})
	copy(net.params[net.nReg:], randInputs(3, F)) // non-zero bias
	x := randInputs(8, rows*H*W*C)
	got := net.Predict(x, rows)
	w, b := tensor(t, net, "layers.1.weight"), tensor(t, net, "layers.1.bias")
	oh, ow := (H+2-3)/2+1, (W+2-2)/2+1
	want := make([]float64, 0, rows*oh*ow*F)
	for r := 0; r < rows; r++ {
		for y := 0; y < oh; y++ {
			for xo := 0; xo < ow; xo++ {
				for f := 0; f < F; f++ {
					s := b[f]
					for c := 0; c < C; c++ {
						for i := 0; i < 3; i++ {
							for j := 0; j < 2; j++ {
								iy, ix := y*2-1+i, xo*2-1+j
								if iy < 0 || iy >= H || ix < 0 || ix >= W {
									continue
								}
								s += w[((f*C+c)*3+i)*2+j] * float64(x[r*H*W*C+(iy*W+ix)*C+c])
							}
						}
					}
					want = append(want, s)
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	if d := maxAbsDiff(got, want); d > 1e-5 {
		t.Errorf("conv2d differs from the direct sum by %g", d)
	}
}

func TestPoolingValues(t *testing.T) {
	x := []float32{1, 5, 2, 0, 3, 4, 7, 6, 9, 8, 1, 1} // 2×6×1 image: windows {1 5 7 6}, {2 0 9 8}, {3 4 1 1}
	for _, c := range []struct {
		typ  string
		want []float32
	}{{LayerMaxPool2D, []float32{7, 9, 4}}, {LayerAvgPool2D, []float32{4.75, 4.75, 2.25}}} {
		net := mustNew(t, Spec{Inputs: 12, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{2, 6, 1}}, {Type: c.typ, Size: []int{2}}}})
		if got := net.Predict(x, 1); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %v, want %v", c.typ, got, c.want)
		}
	}
}

func sigm(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// refRecurrent runs PyTorch's RNN/LSTM/GRU equations in float64 over one sample x [T, D] and
// returns every hidden state.
func refRecurrent(kind string, x []float64, T, D, H int, wih, whh, bih, bhh []float64) [][]float64 {
	G := map[string]int{LayerSimpleRNN: 1, LayerLSTM: 4, LayerGRU: 3}[kind]
	h, c := make([]float64, H), make([]float64, H)
	var out [][]float64
	for t := 0; t < T; t++ {
		gx, gh := make([]float64, G*H), make([]float64, G*H)
		for g := 0; g < G*H; g++ {
			gx[g], gh[g] = bih[g], bhh[g]
			for d := 0; d < D; d++ {
				gx[g] += wih[g*D+d] * x[t*D+d]
			}
			for k := 0; k < H; k++ {
				gh[g] += whh[g*H+k] * h[k]
			}
		}
		nh := make([]float64, H)
		for j := 0; j < H; j++ {
			switch kind {
			case LayerSimpleRNN:
				nh[j] = math.Tanh(gx[j] + gh[j])
			case LayerLSTM:
				i, f := sigm(gx[j]+gh[j]), sigm(gx[H+j]+gh[H+j])
				g, o := math.Tanh(gx[2*H+j]+gh[2*H+j]), sigm(gx[3*H+j]+gh[3*H+j])
				c[j] = f*c[j] + i*g
				nh[j] = o * math.Tanh(c[j])
			case LayerGRU:
				r, z := sigm(gx[j]+gh[j]), sigm(gx[H+j]+gh[H+j])
				n := math.Tanh(gx[2*H+j] + r*gh[2*H+j])
				nh[j] = (1-z)*n + z*h[j]
			}
		}
		h = nh
		out = append(out, nh)
	}
	return out
}

func TestRecurrentMatchesPyTorchEquations(t *testing.T) {
	const T, D, H, rows = 5, 3, 4, 3
	for _, kind := range []string{LayerSimpleRNN, LayerLSTM, LayerGRU} {
		for _, seq := range []bool{false, true} {
			net := mustNew(t, Spec{Inputs: T * D, Seed: 11, Layers: []LayerSpec{
				{Type: LayerReshape, Dims: []int{T, D}},
				{Type: kind, Units: H, ReturnSequences: seq},
			}})
			x := randInputs(12, rows*T*D)
			got := net.Predict(x, rows)
			var want []float64
			for r := 0; r < rows; r++ {
				hs := refRecurrent(kind, to64(x[r*T*D:(r+1)*T*D]), T, D, H,
					tensor(t, net, "layers.1.weight_ih_l0"), tensor(t, net, "layers.1.weight_hh_l0"),
					tensor(t, net, "layers.1.bias_ih_l0"), tensor(t, net, "layers.1.bias_hh_l0"))
				if !seq {
					hs = hs[T-1:]
				}
				for _, h := range hs {
					want = append(want, h...)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d outputs, want %d", kind, len(got), len(want))
			}
			if d := maxAbsDiff(got, want); d > 1e-5 {
				t.Errorf("%s (sequences %v) differs from PyTorch's equations by %g", kind, seq, d)
			}
		}
	}
}

// TestAttentionMatchesDefinition computes softmax(QKᵀ/√dk + mask)V per head in float64.
func TestAttentionMatchesDefinition(t *testing.T) {
	const T, D, E, heads, rows = 4, 3, 6, 2, 2
	dk := E / heads
	for _, causal := range []bool{false, true} {
		net := mustNew(t, Spec{Inputs: T * D, Seed: 13, Layers: []LayerSpec{
			{Type: LayerReshape, Dims: []int{T, D}},
			{Type: LayerAttention, Heads: heads, Dim: E, Causal: causal},
		}})
		copy(net.params[net.nReg:], randInputs(5, len(net.params)-net.nReg))
		x := randInputs(14, rows*T*D)
		got := net.Predict(x, rows)
		inW, inB := tensor(t, net, "layers.1.in_proj_weight"), tensor(t, net, "layers.1.in_proj_bias")
		outW, outB := tensor(t, net, "layers.1.out_proj.weight"), tensor(t, net, "layers.1.out_proj.bias")
		var want []float64
		for r := 0; r < rows; r++ {
			qkv := make([]float64, T*3*E)
			for i := 0; i < T; i++ {
				for o := 0; o < 3*E; o++ {
					s := inB[o]
					for d := 0; d < D; d++ {
						s += inW[o*D+d] * float64(x[(r*T+i)*D+d])
					}
					qkv[i*3*E+o] = s
				}
			}
			ctx := make([]float64, T*E)
			for h := 0; h < heads; h++ {
				for i := 0; i < T; i++ {
					sc := make([]float64, T)
					m := math.Inf(-1)
					for j := 0; j < T; j++ {
						sc[j] = math.Inf(-1)
						if causal && j > i {
							continue
						}
						s := 0.0
						for k := 0; k < dk; k++ {
							s += qkv[i*3*E+h*dk+k] * qkv[j*3*E+E+h*dk+k]
						}
						sc[j] = s / math.Sqrt(float64(dk))
						m = math.Max(m, sc[j])
					}
					sum := 0.0
					for j := range sc {
						sc[j] = math.Exp(sc[j] - m)
						sum += sc[j]
					}
					for j := range sc {
						for k := 0; k < dk; k++ {
							ctx[i*E+h*dk+k] += sc[j] / sum * qkv[j*3*E+2*E+h*dk+k]
						}
					}
				}
			}
			for i := 0; i < T; i++ {
				for o := 0; o < D; o++ {
					s := outB[o]
					for e := 0; e < E; e++ {
						s += outW[o*E+e] * ctx[i*E+e]
					}
					want = append(want, s)
				}
			}
		}
		if d := maxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("attention (causal %v) differs from the definition by %g", causal, d)
		}
	}
}

// TestCausalAttentionIgnoresTheFuture changes the last token: with causal masking no earlier
// position's output may move, through every layer of a transformer stack.
func TestCausalAttentionIgnoresTheFuture(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 5, Seed: 3, Layers: []LayerSpec{
		{Type: LayerEmbedding, Vocab: 10, Dim: 8},
		{Type: LayerPositional},
		{Type: LayerTransformer, Heads: 2, Causal: true},
		{Type: LayerAttention, Heads: 4, Causal: true},
	}})
	a := net.Predict([]float32{1, 2, 3, 4, 5}, 1)
	b := net.Predict([]float32{1, 2, 3, 4, 9}, 1)
	if !reflect.DeepEqual(a[:4*8], b[:4*8]) {
		t.Error("a change at the last position moved earlier outputs")
	}
	if reflect.DeepEqual(a[4*8:], b[4*8:]) {
		t.Error("a change at the last position did not move its own output")
	}
}

func TestLayerNormValues(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 4, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{2, 2}}, {Type: LayerLayerNorm}}})
	got := net.Predict([]float32{1, 3, 5, 5}, 1)
	// [1, 3]: mean 2, variance 1 → ±1/√(1+ε); [5, 5]: variance 0 → 0.
	s := float32(1 / math.Sqrt(1+1e-5))
	if want := []float32{-s, s, 0, 0}; maxAbsDiff(got, to64(want)) > 1e-6 {
		t.Errorf("layernorm = %v, want %v", got, want)
	}
}

func TestPositionalEncodingValues(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 8, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{2, 4}}, {Type: LayerPositional}}})
	got := net.Predict(make([]float32, 8), 1)
	want := []float64{0, 1, 0, 1, math.Sin(1), math.Cos(1), math.Sin(0.01), math.Cos(0.01)}
	if d := maxAbsDiff(got, want); d > 1e-7 {
		t.Errorf("positional encoding = %v, want %v", got, want)
	}
}

// allLayersNet uses every layer type with saved tensors.
func allLayersNet(t *testing.T) *Network {
	return mustNew(t, Spec{Inputs: 16, Seed: 21, Layers: []LayerSpec{
		{Type: LayerReshape, Dims: []int{4, 4, 1}},
		{Type: LayerConv2D, Filters: 2, Kernel: []int{2}, Padding: "same", Activation: "relu"},
		{Type: LayerMaxPool2D, Size: []int{2}},
		{Type: LayerReshape, Dims: []int{4, 2}},
		{Type: LayerLSTM, Units: 3, ReturnSequences: true},
		{Type: LayerGRU, Units: 4, ReturnSequences: true},
		{Type: LayerSimpleRNN, Units: 4, ReturnSequences: true},
		{Type: LayerLayerNorm},
		{Type: LayerTransformer, Heads: 2, FF: 6, Rate: 0.1},
		{Type: LayerAttention, Heads: 1},
		{Type: LayerGlobalAvgPool},
		{Type: LayerDense, Units: 2, Activation: "softmax"},
	}})
}

func TestSaveLoadAllLayers(t *testing.T) {
	net := allLayersNet(t)
	x := randInputs(1, 30*16)
	y := make([]float32, 30*2)
	for r := 0; r < 30; r++ {
		y[r*2+r%2] = 1
	}
	if _, err := Fit(net, Data{X: x, Y: y, Rows: 30}, Data{}, TrainConfig{Loss: LossCrossEntropy, Epochs: 2, BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := net.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !equalBits(paramBits(back), paramBits(net)) {
		t.Error("parameters changed in the round trip")
	}
	if p0, p1 := net.Predict(x, 30), back.Predict(x, 30); !reflect.DeepEqual(p0, p1) {
		t.Error("predictions changed in the round trip")
	}
	var again bytes.Buffer
	back.Save(&again)
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Error("saving the loaded network gave different bytes")
	}
	hl := binary.LittleEndian.Uint64(buf.Bytes())
	header := string(buf.Bytes()[8 : 8+hl])
	for _, name := range []string{`"layers.1.weight":{"data_offsets":[`, `"layers.4.weight_ih_l0"`, `"layers.8.self_attn.in_proj_weight"`, `"layers.8.linear1.weight"`, `"layers.8.norm2.bias"`, `"layers.9.out_proj.weight"`} {
		if !strings.Contains(header, name) {
			t.Errorf("header lacks %s", name)
		}
	}
	if !strings.Contains(header, `"layers.1.weight":{"data_offsets":[`) || !strings.Contains(header, `"shape":[2,1,2,2]`) {
		t.Error("conv weight not saved as [out, in, kh, kw]")
	}
}

func TestShapeErrors(t *testing.T) {
	cases := []struct {
		spec  Spec
		want  string
		layer int
		field string
	}{
		{Spec{Inputs: 64, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{8, 8, 1}}, {Type: LayerConv2D, Filters: 2, Kernel: []int{9}}}}, "kernel [9 9] does not fit the 8x8 input", 1, "kernel"},
		{Spec{Inputs: 64, Layers: []LayerSpec{{Type: LayerConv2D, Filters: 2, Kernel: []int{3}}}}, "conv2d needs [height, width, channels] input, got a flat vector", 0, "type"},
		{Spec{Inputs: 64, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{7, -1}}}}, "cannot reshape 64 values to [7 -1]", 0, "dims"},
		{Spec{Inputs: 6, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{2, 3}}, {Type: LayerAttention, Heads: 2}}}, "dim 3 is not a multiple of heads 2", 1, "dim"},
		{Spec{Inputs: 6, Layers: []LayerSpec{{Type: LayerLSTM, Units: 2}}}, "lstm needs [time, features] input", 0, "type"},
		{Spec{Inputs: 6, Layers: []LayerSpec{{Type: LayerLSTM, Units: 2, Filters: 3}}}, "lstm layers take no filters", 0, "filters"},
		{Spec{Inputs: 16, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{4, 4, 1}}, {Type: LayerMaxPool2D, Size: []int{5, 1}}}}, "pool size [5 1] is larger than the 4x4 input", 1, "size"},
		{Spec{Inputs: 16, Layers: []LayerSpec{{Type: LayerReshape, Dims: []int{4, 4, 1}}, {Type: LayerConv2D, Filters: 1, Kernel: []int{2}, Padding: "full"}}}, `padding must be "same", "valid" or a number of pixels`, 1, "padding"},
	}
	for _, c := range cases {
		_, err := New(c.spec)
		se, ok := err.(*SpecError)
		if !ok || !strings.Contains(err.Error(), c.want) || se.Layer != c.layer || se.Field != c.field {
			t.Errorf("%+v: error %v, want %q at layer %d field %s", c.spec.Layers, err, c.want, c.layer, c.field)
		}
	}
}

func TestFitRejectsBadTokenIDs(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 3, Layers: []LayerSpec{{Type: LayerEmbedding, Vocab: 5, Dim: 2}, {Type: LayerGlobalAvgPool}, {Type: LayerDense, Units: 1}}})
	for _, bad := range []float32{5, -1, 1.5} {
		_, err := Fit(net, Data{X: []float32{0, 1, 2, 3, 4, bad}, Y: []float32{0, 1}, Rows: 2}, Data{}, TrainConfig{Loss: LossMSE, Epochs: 1})
		if err == nil || !strings.Contains(err.Error(), "row 2, column 3") {
			t.Errorf("token %v: error %v, want one naming row 2, column 3", bad, err)
		}
	}
}

// TestShapedTrainingIsDeterministic trains the all-layers network twice (dropout inside the
// transformer included): the weights must agree bit for bit.
func TestShapedTrainingIsDeterministic(t *testing.T) {
	var bits [2][]uint32
	for k := range bits {
		net := allLayersNet(t)
		x := randInputs(1, 24*16)
		y := make([]float32, 24*2)
		for r := 0; r < 24; r++ {
			y[r*2+r%2] = 1
		}
		if _, err := Fit(net, Data{X: x, Y: y, Rows: 24}, Data{}, TrainConfig{Loss: LossCrossEntropy, Epochs: 2, BatchSize: 5, Shuffle: true, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		bits[k] = paramBits(net)
	}
	if !equalBits(bits[0], bits[1]) {
		t.Error("two identical trainings gave different weights")
	}
}

// TestRegularisedWeights: the weight matrices of every layer kind, and nothing else, lie in
// params[:nReg], where L1, L2 and weight decay apply.
func TestRegularisedWeights(t *testing.T) {
	net := allLayersNet(t)
	want := map[string]bool{}
	for _, n := range []string{"layers.1.weight", "layers.4.weight_ih_l0", "layers.4.weight_hh_l0", "layers.5.weight_ih_l0",
		"layers.5.weight_hh_l0", "layers.6.weight_ih_l0", "layers.6.weight_hh_l0", "layers.8.self_attn.in_proj_weight",
		"layers.8.self_attn.out_proj.weight", "layers.8.linear1.weight", "layers.8.linear2.weight",
		"layers.9.in_proj_weight", "layers.9.out_proj.weight", "layers.11.weight"} {
		want[n] = true
	}
	regularised := 0
	for _, ten := range net.tensors {
		if !ten.trainable {
			continue
		}
		off := offsetIn(net.params, ten.data)
		in := off+len(ten.data) <= net.nReg
		if in != want[ten.name] {
			t.Errorf("%s: regularised %v, want %v", ten.name, in, want[ten.name])
		}
		if in {
			regularised += len(ten.data)
		}
	}
	if regularised != net.nReg {
		t.Errorf("tensors cover %d of the %d regularised values", regularised, net.nReg)
	}
}

func TestStringShowsShapedLayers(t *testing.T) {
	s := allLayersNet(t).String()
	for _, want := range []string{"1 conv2d 2 2x2 stride 1x1 same relu", "2 maxpool2d 2x2", "3 reshape [4 2]", "4 lstm 3 sequences=true", "8 transformer heads 2 dim 4 causal=false"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
}
