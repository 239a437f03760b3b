// Added to FerretDB v1's PostgreSQL backend by deploy/infra.sh when it builds FerretDB.
//
// FerretDB v1 pushes a top-level equality down as `_jsonb -> $1 @> $2`, binding the
// field's name as a parameter. PostgreSQL can match an expression index such as
// `(_jsonb -> 'status')` only when it sees the name, so every such query had to be
// planned again for each execution (plan_cache_mode = force_custom_plan), and with it
// every other statement FerretDB prepares. A field's name is part of the query's
// shape, not of its data: written into the SQL as a literal, the prepared statement's
// generic plan uses the index, and PostgreSQL plans it once per connection.
// A dotted path (`#>`) keeps its parameter: it is never answered through an index.

package postgresql

import (
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/postgresql/metadata"
)

// indgangKeySQL is a top-level field name as a string literal, or the next placeholder
// for a path. The server runs with standard_conforming_strings (its default since
// PostgreSQL 9.1), so doubling the quotes is the whole of the quoting.
func indgangKeySQL(p *metadata.Placeholder, k any) string {
	if s, ok := k.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}

	return p.Next()
}

// indgangKeyArgs adds the key to the arguments only when indgangKeySQL made it a
// placeholder.
func indgangKeyArgs(args []any, k any) []any {
	if _, ok := k.(string); ok {
		return args
	}

	return append(args, k)
}
