package steps

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/steps/frame"
)

// frameFile is the artifact file of dataset and preprocess stages.
const frameFile = "data.frame"

// dataKinds are the stage kinds whose artifact is a frame.
var dataKinds = namesOf(preprocessKind{}, datasetKind{})

// openInput opens the artifact file name of the upstream stage chosen by the setting key (or,
// without it, the one stage of the given kinds).
func openInput(env *pipeline.Env, key, name string, kinds ...string) (*os.File, pipeline.Input, error) {
	in, err := env.Input(key, kinds...)
	if err != nil {
		return nil, in, err
	}
	path, err := in.Path(name)
	if err != nil {
		return nil, in, err
	}
	f, err := os.Open(path)
	return f, in, err
}

// readFrame reads the frame of the data stage this stage needs: the rows of the given splits,
// or every row when none is given. Cancelling ctx stops it.
func readFrame(ctx context.Context, env *pipeline.Env, splits ...frame.Split) (*frame.Frame, error) {
	return readFrameWith(ctx, env, func(r io.Reader) (*frame.Frame, error) { return frame.ReadFrameOf(r, splits...) })
}

// readFrameShape reads what a model needs to know of the data (features, outputs, task,
// vocabularies): the header alone when every feature is a number, else the train rows too,
// from which categories and vocabularies come.
func readFrameShape(ctx context.Context, env *pipeline.Env) (*frame.Frame, error) {
	fr, err := readFrameWith(ctx, env, frame.ReadFrameHeader)
	if err != nil || fr.AllNumeric() {
		return fr, err
	}
	return readFrame(ctx, env, frame.Train)
}

func readFrameWith(ctx context.Context, env *pipeline.Env, read func(io.Reader) (*frame.Frame, error)) (*frame.Frame, error) {
	f, in, err := openInput(env, "data", frameFile, dataKinds...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fr, err := read(bufio.NewReaderSize(ctxIO{ctx: ctx, r: f}, 256<<10))
	if err != nil {
		return nil, fmt.Errorf("data from stage %s: %w", in.Stage, err)
	}
	return fr, nil
}

// writeFrame writes fr as the stage's artifact. Cancelling ctx stops it.
func writeFrame(ctx context.Context, env *pipeline.Env, fr *frame.Frame) error {
	f, err := os.Create(filepath.Join(env.Out, frameFile))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(ctxIO{ctx: ctx, w: f}, 64<<10)
	if _, err := fr.WriteTo(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ctxIO reads from r or writes to w until ctx is cancelled: a frame of a million rows takes
// seconds to read or write, longer than a Ctrl-C should wait.
type ctxIO struct {
	ctx context.Context
	r   io.Reader
	w   io.Writer
}

func (c ctxIO) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (c ctxIO) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// logShape logs a frame's size and split counts.
func logShape(env *pipeline.Env, fr *frame.Frame) {
	msg := fmt.Sprintf("%d rows (train %d, val %d, test %d), %d features",
		fr.Rows(), fr.Count(frame.Train), fr.Count(frame.Val), fr.Count(frame.Test), len(fr.FeatureNames()))
	if fr.Task == frame.Classification {
		msg += fmt.Sprintf(", %d classes", len(fr.ClassLabels))
	} else {
		msg += ", regression target"
	}
	fmt.Fprintln(env.Log, msg)
}

// writeFileWith creates the file at path and writes it, buffered, with write.
func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
