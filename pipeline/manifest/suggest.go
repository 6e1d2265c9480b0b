package manifest

import (
	"strings"
)

// quoteList renders names as `a, b, c` for messages.
func quoteList(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}
