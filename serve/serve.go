// Package serve answers predictions of a model bundle over HTTP:
//
//	GET  /healthz     200 "ok"
//	GET  /v1/model    the features (name, type, levels), the classes and the model's metrics
//	POST /v1/predict  a JSON body {"records": [{COL: VALUE}...]} or {"columns": [...], "data":
//	                  [[...]...]}, or a text/csv body → {"predictions": [{"prediction": LABEL,
//	                  "probabilities": {LABEL: P}}...]}, the numbers of `loom predict`
//
// A bad request is 400 {"error": "..."} naming the row and the column, a body over the limit 413.
// Requests are served concurrently: each borrows a copy of the network from a pool, so no lock
// is held while a prediction runs.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/steps/frame"
)

// Options configure a Server.
type Options struct {
	MaxBody int64     // the largest request body in bytes; 16 MiB when 0
	Log     io.Writer // one access-log line per request; none when nil
}

// Server serves one model.
type Server struct {
	b     *bundle.Bundle
	opt   Options
	model []byte         // the /v1/model response, made once
	index map[string]int // the position of each field, by name
	// nets holds idle copies of the model, each with a network of its own (a network keeps
	// its activations, so one request at a time uses it). Not a sync.Pool: that drops its
	// items at every collection, and making a copy again cost a tail of slow requests.
	nets  chan *bundle.Bundle
	logMu sync.Mutex
}

// New makes a server of the model b.
func New(b *bundle.Bundle, opt Options) (*Server, error) {
	if opt.MaxBody <= 0 {
		opt.MaxBody = 16 << 20
	}
	s := &Server{b: b, opt: opt, nets: make(chan *bundle.Bundle, 4*runtime.GOMAXPROCS(0))}
	s.index = make(map[string]int, len(b.Fields))
	for i, f := range b.Fields {
		s.index[f.Name] = i
	}
	var err error
	s.model, err = json.Marshal(modelInfo(b))
	return s, err
}

// feature is one input column as GET /v1/model describes it.
type feature struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Levels []string `json:"levels,omitempty"`
}

func modelInfo(b *bundle.Bundle) any {
	feats := make([]feature, len(b.Fields))
	for i, f := range b.Fields {
		feats[i] = feature{Name: f.Name, Type: f.Kind, Levels: b.Levels(f.Name)}
	}
	return struct {
		Pipeline string             `json:"pipeline,omitempty"`
		Stage    string             `json:"stage,omitempty"`
		Task     string             `json:"task"`
		Target   string             `json:"target"`
		Features []feature          `json:"features"`
		Classes  []string           `json:"classes,omitempty"`
		Metrics  map[string]float64 `json:"metrics,omitempty"`
		Loom     string             `json:"loom,omitempty"`
	}{b.Pipeline, b.Stage, b.Task, b.Target, feats, b.Classes, b.Metrics, b.Loom}
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /v1/model", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.model)
	})
	mux.HandleFunc("POST /v1/predict", s.predict)
	return s.logged(mux)
}

// ListenAndServe serves on addr until ctx is done, then stops accepting, lets the requests in
// flight finish (for up to 30 s) and returns nil. ready, if not nil, gets the address listened
// on once the server accepts connections.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return hs.Shutdown(stop)
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("the body is over %d bytes", mbe.Limit))
			return
		}
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	b, err := s.borrow()
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	defer s.giveBack(b)
	fr, err := s.read(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	setRows(r, fr.Rows())
	preds, err := b.Score(fr)
	if err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	out := struct {
		Predictions []bundle.Record `json:"predictions"`
	}{make([]bundle.Record, preds.Rows())}
	for i := range out.Predictions {
		out.Predictions[i] = preds.Record(i)
	}
	js, err := json.Marshal(out)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(js, '\n'))
}

// borrow takes an idle copy of the model, or makes one.
func (s *Server) borrow() (*bundle.Bundle, error) {
	select {
	case b := <-s.nets:
		return b, nil
	default:
		return s.b.Clone()
	}
}

// giveBack keeps a copy for the next request, unless enough are kept already.
func (s *Server) giveBack(b *bundle.Bundle) {
	select {
	case s.nets <- b:
	default:
	}
}

// read turns a request body into a frame of the model's fields.
func (s *Server) read(contentType string, body []byte) (*frame.Frame, error) {
	if strings.HasPrefix(contentType, "text/csv") {
		return frame.ReadFeatures("body", body, s.b.Fields, ',')
	}
	return parseRequest(body, s.b.Fields, s.index)
}

func (s *Server) fail(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	js, _ := json.Marshal(map[string]string{"error": err.Error()})
	w.Write(append(js, '\n'))
}
