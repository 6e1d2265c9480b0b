package metrics_test

import (
	"fmt"

	"github.com/loom-ml/loom/steps/metrics"
)

func ExampleEvaluate() {
	in := metrics.Input{
		Task:    metrics.Classification,
		Classes: 2,
		Labels:  []int{0, 0, 1, 1},
		Outputs: []float64{0.1, 0.6, 0.4, 0.8}, // sigmoid outputs: P(class 1)
		Cols:    1,
	}
	res, err := metrics.Evaluate(in, metrics.Options{
		Metrics:   []string{"accuracy", "f1", "auc", "confusion_matrix"},
		Threshold: metrics.DefaultThreshold,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range res.Values {
		fmt.Printf("%s %.4f\n", v.Name, v.Value)
	}
	fmt.Println(res.Average, res.Confusion)
	// Output:
	// accuracy 0.5000
	// f1 0.5000
	// auc 0.7500
	// binary [[1 1] [1 1]]
}
