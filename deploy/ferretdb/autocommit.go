// Added to FerretDB v1's PostgreSQL backend by deploy/infra.sh when it builds FerretDB.
//
// FerretDB v1 wraps every insert and update in BEGIN ... COMMIT, even when it sends a
// single statement: an insert of up to BatchSize documents is one INSERT, and an update
// command writes back each matched document with its own one-document UpdateAll. One
// statement is atomic on its own in PostgreSQL, so the transaction adds nothing but two
// round trips (BEGIN and COMMIT, each a wake-up of FerretDB and of a PostgreSQL
// backend) to nearly every write indgang makes. A write that sends several statements
// (more documents than one INSERT takes, several documents in one UpdateAll) keeps its
// transaction.

package postgresql

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/FerretDB/FerretDB/internal/backends/postgresql/metadata/pool"
)

// execer is what InsertAll and UpdateAll use of a transaction: both a pgx.Tx and the
// pool itself (which runs each statement in autocommit) have it.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// inTransactionIf runs f in a transaction when it will send more than one statement,
// and on the pool (one autocommitted statement) when it will not.
func inTransactionIf(ctx context.Context, p *pgxpool.Pool, several bool, f func(tx execer) error) error {
	if !several {
		return f(p)
	}

	return pool.InTransaction(ctx, p, func(tx pgx.Tx) error { return f(tx) })
}
