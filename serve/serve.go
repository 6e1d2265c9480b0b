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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	model []byte // the /v1/model response, made once
	nets  sync.Pool
	logMu sync.Mutex
}

// New makes a server of the model b.
func New(b *bundle.Bundle, opt Options) (*Server, error) {
	if opt.MaxBody <= 0 {
		opt.MaxBody = 16 << 20
	}
	s := &Server{b: b, opt: opt}
	s.nets.New = func() any {
		c, err := b.Clone()
		if err != nil {
			panic(err) // b was read or written a moment ago; copying it cannot fail
		}
		return c
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

// predictRequest is a JSON body: records, or columns and data.
type predictRequest struct {
	Records []map[string]any `json:"records"`
	Columns []string         `json:"columns"`
	Data    [][]any          `json:"data"`
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
	b := s.nets.Get().(*bundle.Bundle)
	defer s.nets.Put(b)
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

// read turns a request body into a frame of the model's fields.
func (s *Server) read(contentType string, body []byte) (*frame.Frame, error) {
	if strings.HasPrefix(contentType, "text/csv") {
		return frame.ReadFeatures("body", body, s.b.Fields, ',')
	}
	var req predictRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("the body is not the JSON of a prediction request ({\"records\": [...]} or {\"columns\": [...], \"data\": [...]}): %v", err)
	}
	if req.Records == nil && req.Columns != nil {
		for i, row := range req.Data {
			if len(row) != len(req.Columns) {
				return nil, fmt.Errorf("row %d has %d values for %d columns", i+1, len(row), len(req.Columns))
			}
			rec := make(map[string]any, len(row))
			for j, v := range row {
				rec[req.Columns[j]] = v
			}
			req.Records = append(req.Records, rec)
		}
	}
	return frame.FromRecords("", req.Records, s.b.Fields)
}

func (s *Server) fail(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	js, _ := json.Marshal(map[string]string{"error": err.Error()})
	w.Write(append(js, '\n'))
}
