package serve

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// entry is what the access log says of one request.
type entry struct {
	http.ResponseWriter
	status, bytes, rows int
}

func (e *entry) WriteHeader(code int) {
	e.status = code
	e.ResponseWriter.WriteHeader(code)
}

func (e *entry) Write(p []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	n, err := e.ResponseWriter.Write(p)
	e.bytes += n
	return n, err
}

type entryKey struct{}

// setRows records how many rows a request asked to predict, for its log line.
func setRows(r *http.Request, n int) {
	if e, ok := r.Context().Value(entryKey{}).(*entry); ok {
		e.rows = n
	}
}

// logged writes one line per request to the log: time, client, method, path, status, bytes
// written, duration and rows predicted.
func (s *Server) logged(h http.Handler) http.Handler {
	if s.opt.Log == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e := &entry{ResponseWriter: w}
		h.ServeHTTP(e, r.WithContext(context.WithValue(r.Context(), entryKey{}, e)))
		line := fmt.Sprintf("%s %s %s %s %d %dB %.3fms rows=%d\n", start.UTC().Format(time.RFC3339Nano), r.RemoteAddr,
			r.Method, r.URL.Path, e.status, e.bytes, float64(time.Since(start).Microseconds())/1000, e.rows)
		s.logMu.Lock()
		defer s.logMu.Unlock()
		s.opt.Log.Write([]byte(line))
	})
}
