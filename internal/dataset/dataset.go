// Package dataset describes where a person's data lives in the organisation's
// own databases: datastores, their collections (tables) and fields, which
// fields hold which personal-information categories, which fields identify a
// person, how collections reference one another, and how each field is erased.
//
// A dataset file (custos_dataset: 1) sits beside the privacy manifest. Fides
// dataset files can be imported with ParseFides (see FIDES.md).
package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Format is the dataset format version this build understands.
const Format = 1

// MaxSize bounds a dataset file; anything larger is not a hand-written annotation.
const MaxSize = 8 << 20

// Pos is a position in a dataset file (1-based).
type Pos = manifest.Pos

// Problem is one thing wrong with a dataset, shown as FILE:LINE:COL: message.
type Problem = manifest.Problem

// Problems is every problem found in a dataset, in file order.
type Problems = manifest.Problems

// Datastore kinds.
const (
	KindPostgres = "postgres"
	KindMySQL    = "mysql"
	KindSQLite   = "sqlite"
)

// Well-known identity types; any other lower-case name is a custom identity.
const (
	IdentityEmail  = "email"
	IdentityPhone  = "phone"
	IdentityUserID = "user_id"
)

// Reference directions. They follow Fides: on a field F that references R,
// "to" means values flow from F into R (finding F's row finds R's rows), "from"
// means values flow from R into F, and "both" (the default) means either way.
const (
	DirectionTo   = "to"
	DirectionFrom = "from"
	DirectionBoth = "both"
)

// Dataset is every datastore a person's data may be found in.
type Dataset struct {
	File       string      `json:"file"`
	Datastores []Datastore `json:"datastores"`

	pos positions // where each value is written, by path (datastores[0].collections[1])
}

// Datastore is one database.
type Datastore struct {
	ID   string `json:"id"`
	Kind string `json:"kind,omitempty"`
	// DSN is an inline connection string; it never carries a password.
	DSN         string       `json:"dsn,omitempty"`
	DSNEnv      string       `json:"dsn_env,omitempty"`
	DSNFile     string       `json:"dsn_file,omitempty"`
	Collections []Collection `json:"collections"`
}

// Collection is a table.
type Collection struct {
	Name string `json:"name"`
	// DeleteRow makes erasure delete the person's whole row instead of
	// rewriting field by field.
	DeleteRow bool    `json:"delete_row,omitempty"`
	Fields    []Field `json:"fields"`
	// Retention binds the manifest's retention rules to the collection:
	// what starts each rule's clock and what happens to the rows when it
	// runs out (see RetentionTarget).
	Retention []RetentionTarget `json:"retention,omitempty"`
	// RestrictFlag names the field that marks a row restricted to storage:
	// a restriction sets it in every row found for the person, lifting it
	// clears it (see RestrictValue).
	RestrictFlag string `json:"restrict_flag,omitempty"`
	// HeldFor names the field that says which customer a row is held for,
	// in a collection the organisation keeps as a processor: an
	// entrustment's customer key is its value for that customer, and the
	// end of the entrustment deletes or returns those rows.
	HeldFor string `json:"held_for,omitempty"`
}

// Field is a column. Nested fields of document stores are flattened into
// dotted names ("address.city").
type Field struct {
	Name       string      `json:"name"`
	PrimaryKey bool        `json:"primary_key,omitempty"`
	DataType   string      `json:"data_type,omitempty"`
	Categories []string    `json:"categories,omitempty"`
	Identity   string      `json:"identity,omitempty"`
	Erase      Erase       `json:"erase,omitzero"`
	References []Reference `json:"references,omitempty"`
	// Anonymise says what anonymisation does to the field (AnonymiseDrop,
	// AnonymiseKeep or a generalisation); empty: see Field.Anonymisation.
	Anonymise string `json:"anonymise,omitempty"`
	// Correct, when not empty, lets a correction request rewrite the field,
	// and is the format a corrected value must have (CorrectText for
	// `correct: true`): see CorrectedValue.
	Correct string `json:"correct,omitempty"`
}

// Reference links a field to a field of another collection.
type Reference struct {
	Datastore  string `json:"datastore,omitempty"` // empty: the same datastore
	Collection string `json:"collection"`
	Field      string `json:"field"`
	Direction  string `json:"direction"`
}

// Erasure strategies.
const (
	EraseNull   = "null"
	EraseFixed  = "fixed"
	EraseRandom = "random"
	EraseHash   = "hash"
	EraseHMAC   = "hmac"
	EraseMask   = "mask"
	EraseKeep   = "keep"
)

var eraseStrategies = []string{EraseNull, EraseFixed, EraseRandom, EraseHash, EraseHMAC, EraseMask, EraseKeep}

// Erase says how a field is rewritten when a person's data is erased.
// The zero value means "not written": see Field.Erasure.
type Erase struct {
	Strategy string
	Value    string // for fixed
}

func (e Erase) String() string {
	if e.Strategy == EraseFixed {
		return EraseFixed + ":" + e.Value
	}
	return e.Strategy
}

// MarshalText writes the strategy as it is written in a dataset file.
func (e Erase) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// ParseErase reads "null", "fixed:<value>", "random", "hash", "hmac", "mask" or "keep".
func ParseErase(s string) (Erase, error) {
	if v, ok := strings.CutPrefix(s, EraseFixed+":"); ok {
		return Erase{Strategy: EraseFixed, Value: v}, nil
	}
	if s == EraseFixed {
		return Erase{}, errors.New(`erase strategy "fixed" needs a value: fixed:<value>`)
	}
	for _, k := range eraseStrategies {
		if s == k {
			return Erase{Strategy: s}, nil
		}
	}
	msg := fmt.Sprintf("unknown erase strategy %q", s)
	if c := closest(s, eraseStrategies); c != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", c)
	}
	return Erase{}, errors.New(msg + ": want one of null, fixed:<value>, random, hash, hmac, mask, keep")
}

// Erasure is the strategy that applies to the field: the one written, or else
// keep for primary keys (they locate the row) and for fields without personal
// data, and null for the rest.
func (f Field) Erasure() Erase {
	switch {
	case f.Erase.Strategy != "":
		return f.Erase
	case f.PrimaryKey || len(f.Categories) == 0:
		return Erase{Strategy: EraseKeep}
	default:
		return Erase{Strategy: EraseNull}
	}
}

// Personal reports whether the collection holds personal data: some field has a category.
func (c Collection) Personal() bool {
	for _, f := range c.Fields {
		if len(f.Categories) > 0 {
			return true
		}
	}
	return false
}

// Load reads the dataset file at path. The error is Problems when the file is readable but wrong.
func Load(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	return Parse(path, data)
}

// positions maps a value's path to where it is written.
type positions map[string]Pos

// lookup returns the position of path, or of its nearest written ancestor.
func (p positions) lookup(path string) Pos {
	for {
		if pos, ok := p[path]; ok {
			return pos
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			if pos, ok := p[""]; ok {
				return pos
			}
			return Pos{Line: 1, Col: 1}
		}
		path = path[:i]
	}
}

// maxProblems bounds a report; past it a file is not worth reading line by line.
const maxProblems = 500

// finish sorts problems into file order and cuts the report after maxProblems.
func finish(ps Problems) Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Message < b.Message
	})
	if len(ps) <= maxProblems {
		return ps
	}
	last := ps[maxProblems-1]
	out := append(Problems{}, ps[:maxProblems]...)
	return append(out, Problem{File: last.File, Pos: last.Pos, Message: fmt.Sprintf("too many problems: %d more not shown", len(ps)-maxProblems)})
}
