package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/loom-ml/loom/pipeline/manifest"
)

// WriteGraph prints the DAG of m in format "text", "dot" (Graphviz) or "mermaid".
func WriteGraph(w io.Writer, m *manifest.Manifest, format string) error {
	switch format {
	case "text":
		for _, n := range m.Order {
			st := m.Stages[n]
			if len(st.Needs) == 0 {
				fmt.Fprintf(w, "%s (%s)\n", n, st.Uses)
			} else {
				fmt.Fprintf(w, "%s (%s) <- %s\n", n, st.Uses, strings.Join(st.Needs, ", "))
			}
		}
	case "dot":
		fmt.Fprintf(w, "digraph %q {\n\trankdir=LR;\n\tnode [shape=box];\n", m.Name)
		for _, n := range m.Order {
			fmt.Fprintf(w, "\t%q [label=\"%s\\n(%s)\"];\n", n, n, m.Stages[n].Uses)
		}
		for _, n := range m.Order {
			for _, need := range m.Stages[n].Needs {
				fmt.Fprintf(w, "\t%q -> %q;\n", need, n)
			}
		}
		fmt.Fprintln(w, "}")
	case "mermaid":
		fmt.Fprintln(w, "flowchart LR")
		for _, n := range m.Order {
			fmt.Fprintf(w, "  %s[\"%s (%s)\"]\n", mermaidID(n), n, m.Stages[n].Uses)
		}
		for _, n := range m.Order {
			for _, need := range m.Stages[n].Needs {
				fmt.Fprintf(w, "  %s --> %s\n", mermaidID(need), mermaidID(n))
			}
		}
	default:
		return fmt.Errorf("unknown graph format %q (want text, dot or mermaid)", format)
	}
	return nil
}

// mermaidID makes a stage name safe as a Mermaid node id (which may not contain '-').
func mermaidID(name string) string { return strings.ReplaceAll(name, "-", "_") }
