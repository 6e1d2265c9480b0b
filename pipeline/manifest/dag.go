package manifest

import (
	"container/heap"
	"fmt"
	"strings"
)

// order sets m.Order by Kahn's algorithm, always taking the ready stage that comes first in the
// file, so that the order is stable and readable; stages left over lie on or after a cycle,
// and each cycle is reported once.
func (m *Manifest) order(sink *errorSink) {
	names := m.fileOrder()
	indeg := make([]int, len(names))
	users := make([][]int, len(names)) // users[i]: the stages that need stage i
	for i, name := range names {
		for _, d := range m.Stages[name].Needs {
			j := m.index[d]
			users[j] = append(users[j], i)
			indeg[i]++
		}
	}
	ready := &intHeap{}
	for i, d := range indeg {
		if d == 0 {
			*ready = append(*ready, i)
		}
	}
	heap.Init(ready)
	m.Order = make([]string, 0, len(names))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		m.Order = append(m.Order, names[i])
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(m.Order) < len(names) {
		m.reportCycles(names, indeg, sink)
	}
}

// reportCycles finds the cycles among the stages still waiting (indeg > 0) by depth-first search
// along needs, reporting each cycle at the needs entry that closes it.
func (m *Manifest) reportCycles(names []string, indeg []int, sink *errorSink) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(names))
	var path []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = onPath
		path = append(path, i)
		st := m.Stages[names[i]]
		for k, d := range st.Needs {
			j := m.index[d]
			switch state[j] {
			case onPath:
				m.cycleError(names, path, j, st, k, sink)
			case unseen:
				if indeg[j] > 0 {
					visit(j)
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
	}
	for i := range names {
		if indeg[i] > 0 && state[i] == unseen {
			visit(i)
		}
	}
}

// cycleError reports the cycle path[from..] -> j, positioned at needs entry k of st.
func (m *Manifest) cycleError(names []string, path []int, j int, st *Stage, k int, sink *errorSink) {
	start := 0
	for p, i := range path {
		if i == j {
			start = p
		}
	}
	cyc := make([]string, 0, len(path)-start+1)
	for _, i := range path[start:] {
		cyc = append(cyc, names[i])
	}
	cyc = append(cyc, names[j])
	sink.addErr(&Error{Pos: st.needsPos[k], Msg: fmt.Sprintf("cycle in needs: %s (each stage needs the next)", strings.Join(cyc, " -> "))})
}

// intHeap is a min-heap of file indexes.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
