// Package coord keeps a sweep's units of work in PostgreSQL, so that loom processes on several
// machines run one sweep together: a sweep row per tune stage key, a unit row per trial run
// (its trial, ASHA rung and budget, params, state, worker, heartbeat and result). Deciding the
// next units happens under a lock on the sweep row, claiming one is a single statement with
// SKIP LOCKED, and every statement runs under a timeout, so that no process waits forever on
// another or on a database that went away.
package coord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaVersion is the version of the tables this loom reads and writes.
const schemaVersion = 1

// migrations[v-1] brings the schema from version v-1 to v.
var migrations = []string{`
CREATE TABLE loom_sweeps (
	id      text PRIMARY KEY,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE loom_units (
	sweep     text NOT NULL REFERENCES loom_sweeps(id) ON DELETE CASCADE,
	k         int NOT NULL,
	trial     int NOT NULL,
	rung      int NOT NULL,
	budget    int NOT NULL,
	params    jsonb NOT NULL,
	state     text NOT NULL DEFAULT 'waiting',
	worker    text,
	heartbeat timestamptz,
	attempts  int NOT NULL DEFAULT 0,
	result    jsonb,
	error     text,
	PRIMARY KEY (sweep, k)
);
CREATE INDEX loom_units_waiting ON loom_units (sweep, state, k);
`}

// Unit states.
const (
	Waiting = "waiting"
	Running = "running"
	Done    = "done"
	Failed  = "failed" // its worker died more often than the sweep retries
)

// Unit is one run of a trial, at one rung.
type Unit struct {
	K, Trial, Rung, Budget int
	Params                 map[string]any
	State, Worker          string
	Attempts               int
	Result                 json.RawMessage // what the run reported, as the caller encoded it
	Error                  string
}

// DB is a sweep storage.
type DB struct {
	pool *pgxpool.Pool
	name string // the URL without credentials, for messages
}

// timeout bounds every statement: a database that stops answering is an error, not a hang.
const timeout = 10 * time.Second

// Open connects to the storage at url (postgres://USER:PASSWORD@HOST:PORT/DB) with a pool of a
// few connections, and creates or migrates loom's tables.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("storage: not a URL: %v", err)
	}
	name := u.Redacted()
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("storage %s: %v", name, err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "10000"
	cfg.ConnConfig.RuntimeParams["application_name"] = "loom"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("storage %s: %v", name, err)
	}
	db := &DB{pool: pool, name: name}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// String names the storage without its password.
func (db *DB) String() string { return db.name }

func (db *DB) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage %s: %w", db.name, err)
}

// migrate brings the schema to schemaVersion under an advisory lock, so that processes
// starting together migrate once.
func (db *DB) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return db.wrap(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(1819242349) -- "loom"`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS loom_schema (version int NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM loom_schema`).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := tx.Exec(ctx, `INSERT INTO loom_schema VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if v > schemaVersion {
			return fmt.Errorf("its loom tables are version %d; this loom knows up to %d: use a newer loom", v, schemaVersion)
		}
		for ; v < schemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrating to version %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE loom_schema SET version = $1`, schemaVersion)
		return err
	}))
}

// Decide locks the sweep (creating it), puts back in the queue the units whose worker has not
// beaten for stale (failing those already tried retries times), reads every unit in order and
// inserts the units decide returns, which must continue the numbering.
func (db *DB) Decide(ctx context.Context, sweep string, stale time.Duration, retries int, decide func([]Unit) ([]Unit, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return db.wrap(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO loom_sweeps (id) VALUES ($1) ON CONFLICT DO NOTHING`, sweep); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM loom_sweeps WHERE id = $1 FOR UPDATE`, sweep); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE loom_units SET
				state = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'waiting' END,
				error = CASE WHEN attempts >= $3 THEN 'its worker stopped answering ' || (attempts + 1) || ' times' END,
				attempts = attempts + 1, worker = NULL
			WHERE sweep = $1 AND state = 'running' AND heartbeat < now() - make_interval(secs => $2)`,
			sweep, stale.Seconds(), retries)
		if err != nil {
			return err
		}
		units, err := units(ctx, tx, sweep)
		if err != nil {
			return err
		}
		fresh, err := decide(units)
		if err != nil {
			return err
		}
		for i, u := range fresh {
			if u.K != len(units)+i {
				return fmt.Errorf("unit %d decided where %d was due", u.K, len(units)+i)
			}
			params, _ := json.Marshal(u.Params)
			if _, err := tx.Exec(ctx, `INSERT INTO loom_units (sweep, k, trial, rung, budget, params) VALUES ($1, $2, $3, $4, $5, $6)`,
				sweep, u.K, u.Trial, u.Rung, u.Budget, params); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Units returns the sweep's units in order.
func (db *DB) Units(ctx context.Context, sweep string) ([]Unit, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := units(ctx, db.pool, sweep)
	return out, db.wrap(err)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func units(ctx context.Context, q querier, sweep string) ([]Unit, error) {
	rows, err := q.Query(ctx, `SELECT k, trial, rung, budget, params, state, coalesce(worker, ''), attempts, result, coalesce(error, '')
		FROM loom_units WHERE sweep = $1 ORDER BY k`, sweep)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Unit
	for rows.Next() {
		var u Unit
		var params []byte
		if err := rows.Scan(&u.K, &u.Trial, &u.Rung, &u.Budget, &params, &u.State, &u.Worker, &u.Attempts, &u.Result, &u.Error); err != nil {
			return nil, err
		}
		if u.Params, err = decodeParams(params); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Claim takes the first waiting unit for worker, or returns nil when none waits. One
// statement: two workers never take the same unit, and neither waits for the other.
func (db *DB) Claim(ctx context.Context, sweep, worker string) (*Unit, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var u Unit
	var params []byte
	err := db.pool.QueryRow(ctx, `UPDATE loom_units SET state = 'running', worker = $2, heartbeat = now()
		WHERE (sweep, k) = (SELECT sweep, k FROM loom_units WHERE sweep = $1 AND state = 'waiting' ORDER BY k
			FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING k, trial, rung, budget, params, attempts`, sweep, worker).Scan(&u.K, &u.Trial, &u.Rung, &u.Budget, &params, &u.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.wrap(err)
	}
	u.State, u.Worker = Running, worker
	u.Params, err = decodeParams(params)
	return &u, db.wrap(err)
}

// decodeParams reads params as they were written: a number without a fraction or exponent is
// an int again, so that a trial's settings, and its cache key, are those of a local sweep.
func decodeParams(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range m {
		m[k] = numbers(v)
	}
	return m, nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(x.String()); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

// Beat records that worker still runs unit k; false when the unit is no longer its own (it
// was put back in the queue).
func (db *DB) Beat(ctx context.Context, sweep string, k int, worker string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `UPDATE loom_units SET heartbeat = now() WHERE sweep = $1 AND k = $2 AND worker = $3 AND state = 'running'`, sweep, k, worker)
	return tag.RowsAffected() == 1, db.wrap(err)
}

// Finish stores the result of unit k, if the unit is still worker's.
func (db *DB) Finish(ctx context.Context, sweep string, k int, worker string, result json.RawMessage, errText string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := db.pool.Exec(ctx, `UPDATE loom_units SET state = 'done', result = $4, error = nullif($5, '')
		WHERE sweep = $1 AND k = $2 AND worker = $3 AND state = 'running'`, sweep, k, worker, result, errText)
	return db.wrap(err)
}
