package clickhouse

import (
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one step parsed from migrations/NNN_name.sql.
//
// File format:
//   - The name is NNN_name.sql: NNN (digits) is the version, applied in
//     ascending order and recorded in schema_migrations; versions are unique.
//   - The leading comment lines may hold one header
//     "-- requires: server >= MAJOR.MINOR[.PATCH]". On an older server the
//     step is skipped and not recorded, so it applies after an upgrade. Any
//     other "-- requires:" text is an error, so a typo never turns into an
//     ungated step.
//   - The body may hold several statements. A statement ends at a line whose
//     last non-blank character is ';'. Whole-line "--" comments are dropped
//     (they may contain ';'); a comment after SQL on the same line is kept
//     and must not end with ';'.
//   - Statements must be idempotent (IF NOT EXISTS, MODIFY): a step is
//     recorded after its statements run, so a crash in between re-runs it.
//   - Header lines "-- param: name = default" declare settings chosen at
//     migrate time (a retention period); the body says {{name}}. Values
//     are positive integers. A placeholder without its header is an error.
type Migration struct {
	Version    uint32
	Name       string            // the part after NNN_, without .sql
	Requires   *Version          // nil when the step runs on every server
	Params     map[string]string // declared parameters and their defaults
	Statements []string          // as written; Render fills the parameters
}

// Render returns the statements with every {{name}} replaced by params'
// value, or the declared default. Values must be positive integers: they
// go into SQL unquoted.
func (m Migration) Render(params map[string]string) ([]string, error) {
	if len(m.Params) == 0 {
		return m.Statements, nil
	}
	var pairs []string
	for name, def := range m.Params {
		v := def
		if p, ok := params[name]; ok {
			v = p
		}
		if n, err := strconv.ParseUint(v, 10, 32); err != nil || n == 0 {
			return nil, fmt.Errorf("migration %s: parameter %s: %q is not a positive integer", m.ID(), name, v)
		}
		pairs = append(pairs, "{{"+name+"}}", v)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]string, len(m.Statements))
	for i, st := range m.Statements {
		out[i] = r.Replace(st)
	}
	return out, nil
}

// ID is the file's stem, e.g. "004_dead_letters_ttl".
func (m Migration) ID() string { return fmt.Sprintf("%03d_%s", m.Version, m.Name) }

// Applies reports whether the step may run on server.
func (m Migration) Applies(server Version) bool {
	return m.Requires == nil || server.AtLeast(*m.Requires)
}

var (
	fileRe     = regexp.MustCompile(`^(\d+)_([A-Za-z0-9_]+)\.sql$`)
	requiresRe = regexp.MustCompile(`^--\s*requires:\s*server\s*>=\s*(\d+\.\d+(?:\.\d+)?)\s*$`)
	paramRe    = regexp.MustCompile(`^--\s*param:\s*([a-z_][a-z0-9_]*)\s*=\s*(\d+)\s*$`)
	holeRe     = regexp.MustCompile(`\{\{([^}]*)\}\}`)
)

// ParseMigration parses one file; filename is its base name.
func ParseMigration(filename, content string) (Migration, error) {
	m := fileRe.FindStringSubmatch(filename)
	if m == nil {
		return Migration{}, fmt.Errorf("migration %s: name must be NNN_name.sql", filename)
	}
	v, err := strconv.ParseUint(m[1], 10, 32)
	if err != nil {
		return Migration{}, fmt.Errorf("migration %s: version: %w", filename, err)
	}
	mig := Migration{Version: uint32(v), Name: m[2]}

	inHeader := true
	for _, line := range strings.Split(content, "\n") {
		t := strings.TrimSpace(line)
		isComment := strings.HasPrefix(t, "--")
		if t != "" && !isComment {
			inHeader = false
		}
		if isComment && strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(t, "--")), "param:") {
			pm := paramRe.FindStringSubmatch(t)
			if pm == nil || !inHeader {
				return Migration{}, fmt.Errorf("migration %s: header %q: want \"-- param: name = positive integer\" before the first statement", filename, t)
			}
			if mig.Params == nil {
				mig.Params = map[string]string{}
			}
			mig.Params[pm[1]] = pm[2]
			continue
		}
		if !isComment || !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(t, "--")), "requires:") {
			continue
		}
		if !inHeader {
			return Migration{}, fmt.Errorf("migration %s: %q must come before the first statement", filename, t)
		}
		if mig.Requires != nil {
			return Migration{}, fmt.Errorf("migration %s: more than one requires header", filename)
		}
		rm := requiresRe.FindStringSubmatch(t)
		if rm == nil {
			return Migration{}, fmt.Errorf("migration %s: header %q: want \"-- requires: server >= MAJOR.MINOR[.PATCH]\"", filename, t)
		}
		req, err := ParseVersion(rm[1])
		if err != nil {
			return Migration{}, fmt.Errorf("migration %s: %w", filename, err)
		}
		mig.Requires = &req
	}

	mig.Statements = SplitStatements(content)
	if len(mig.Statements) == 0 {
		return Migration{}, fmt.Errorf("migration %s: no statements", filename)
	}
	for _, st := range mig.Statements {
		for _, h := range holeRe.FindAllStringSubmatch(st, -1) {
			if _, ok := mig.Params[h[1]]; !ok {
				return Migration{}, fmt.Errorf("migration %s: {{%s}} has no \"-- param: %s = default\" header", filename, h[1], h[1])
			}
		}
	}
	return mig, nil
}

// SplitStatements renders a migration body into the statements sent to the
// server: whole-line comments and blank lines dropped, split where a line
// ends with ';', the ';' itself removed.
func SplitStatements(sql string) []string {
	var (
		out []string
		cur []string
	)
	emit := func() {
		if s := strings.TrimSpace(strings.Join(cur, "\n")); s != "" {
			out = append(out, s)
		}
		cur = cur[:0]
	}
	for _, line := range strings.Split(sql, "\n") {
		line = strings.TrimRight(line, " \t\r")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if strings.HasSuffix(line, ";") {
			cur = append(cur, strings.TrimSuffix(line, ";"))
			emit()
			continue
		}
		cur = append(cur, line)
	}
	emit()
	return out
}

// Migrations returns the embedded steps in version order.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFS, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[uint32]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		m, err := ParseMigration(e.Name(), string(b))
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[m.Version]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), m.Version)
		}
		seen[m.Version] = e.Name()
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return out, nil
}
