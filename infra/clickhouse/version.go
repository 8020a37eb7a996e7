package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Version is a ClickHouse server release, e.g. 18.16.1 or 25.3.2.39.
// Only the first three numbers take part in comparisons.
type Version struct {
	Major, Minor, Patch int
	Raw                 string // as the server printed it
}

// ParseVersion reads "MAJOR.MINOR[.PATCH[.BUILD]]" with an optional suffix
// after '-' (e.g. "21.8.15.7-lts").
func ParseVersion(s string) (Version, error) {
	raw := strings.TrimSpace(s)
	core, _, _ := strings.Cut(raw, "-")
	parts := strings.Split(core, ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("parse version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	v := Version{Raw: raw}
	dst := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(dst) && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("parse version %q: part %d is not a number", s, i+1)
		}
		*dst[i] = n
	}
	return v, nil
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int {
	if c := cmp.Compare(v.Major, o.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, o.Minor); c != 0 {
		return c
	}
	return cmp.Compare(v.Patch, o.Patch)
}

// AtLeast reports whether v >= o.
func (v Version) AtLeast(o Version) bool { return v.Compare(o) >= 0 }

func (v Version) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// ServerVersion asks the server for version() rather than trusting the
// handshake, so it reports what SQL-level features will see.
func ServerVersion(ctx context.Context, conn driver.Conn) (Version, error) {
	var s string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&s); err != nil {
		return Version{}, fmt.Errorf("query server version: %w", err)
	}
	return ParseVersion(s)
}
