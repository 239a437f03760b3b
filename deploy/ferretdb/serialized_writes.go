// Added to FerretDB v1's handler package by deploy/infra.sh when it builds FerretDB.
//
// FerretDB v1 executes update, findAndModify and delete as "query the documents,
// apply the change in Go, write them back" without a transaction, so two clients
// updating the same document at once lose one update (measured here: 400
// concurrent $inc on one document left 122). indgang relies on single-document
// atomicity, as MongoDB guarantees it; serialising those three commands restores
// that guarantee for development and CI in FerretDB's one process.
//
// Serialised per document where the command says which: a command whose every
// statement filters on one scalar `_id` (nearly all of indgang's writes: the outbox,
// relay acknowledgements, keyed counters) locks only those documents, so writes to
// different documents of one collection run in parallel. Any other filter can match
// any document and locks the whole collection. (Serialising every write per
// collection made each busy collection a queue: at 25 inquiries/s on two cores the
// end-to-end median went from ~20 ms to ~250 ms.) Inserts are not read-modify-write
// (the backend's unique indexes refuse a second document with a taken key) and run
// beside all of these.

package handler

import (
	"fmt"
	"sort"
	"sync"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

// collectionLocks: `all` is held shared by per-document writers and exclusively by a
// write that may touch any document; `docs` holds the per-document mutexes in use.
type collectionLocks struct {
	all  sync.RWMutex
	mu   sync.Mutex
	docs map[string]*documentLock
}

type documentLock struct {
	sync.Mutex
	id    string
	users int
}

// namespaceLocks holds one *collectionLocks per "database.collection".
var namespaceLocks sync.Map

// lockNamespace locks what a write command may change; call the result to unlock.
func lockNamespace(msg *wire.OpMsg) func() {
	namespace, ids := writeTargets(msg)
	value, _ := namespaceLocks.LoadOrStore(namespace, &collectionLocks{docs: map[string]*documentLock{}})
	c := value.(*collectionLocks)
	if ids == nil {
		c.all.Lock()
		return c.all.Unlock
	}
	c.all.RLock()
	// One order for every command, so two bulks naming the same documents cannot deadlock.
	sort.Strings(ids)
	held := make([]*documentLock, 0, len(ids))
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			continue
		}
		held = append(held, c.acquire(id))
	}
	return func() {
		for i := len(held) - 1; i >= 0; i-- {
			c.release(held[i])
		}
		c.all.RUnlock()
	}
}

func (c *collectionLocks) acquire(id string) *documentLock {
	c.mu.Lock()
	d := c.docs[id]
	if d == nil {
		d = &documentLock{id: id}
		c.docs[id] = d
	}
	d.users++
	c.mu.Unlock()
	d.Lock()
	return d
}

func (c *collectionLocks) release(d *documentLock) {
	d.Unlock()
	c.mu.Lock()
	d.users--
	if d.users == 0 {
		delete(c.docs, d.id)
	}
	c.mu.Unlock()
}

// writeTargets names the command's collection and, when every statement filters on one
// scalar `_id`, those ids; nil ids mean "may touch any document".
func writeTargets(msg *wire.OpMsg) (string, []string) {
	command, err := msg.RawSection0().Decode()
	if err != nil {
		return "", nil
	}
	name := command.Command()
	namespace := fmt.Sprintf("%v.%v", command.Get("$db"), command.Get(name))

	var statements []any
	field := "q"
	switch name {
	case "update", "delete":
		list := name + "s" // "updates", "deletes": in the command or as a document sequence
		if raw, ok := command.Get(list).(wirebson.RawArray); ok {
			array, err := raw.Decode()
			if err != nil {
				return namespace, nil
			}
			for i := 0; i < array.Len(); i++ {
				statements = append(statements, array.Get(i))
			}
		}
		for _, section := range msg.Sections() {
			if section.Kind == 1 && section.Identifier == list {
				for _, doc := range section.Documents() {
					statements = append(statements, doc)
				}
			}
		}
	default: // findAndModify
		statements = []any{command}
		field = "query"
	}
	if len(statements) == 0 {
		return namespace, nil
	}

	ids := make([]string, 0, len(statements))
	for _, statement := range statements {
		id, ok := filterID(statement, field)
		if !ok {
			return namespace, nil
		}
		ids = append(ids, id)
	}
	return namespace, ids
}

// filterID is the statement's filter's `_id` when it is a scalar (a document there may
// be an operator such as $in, an array may match many).
func filterID(statement any, field string) (string, bool) {
	var doc *wirebson.Document
	switch s := statement.(type) {
	case wirebson.RawDocument:
		decoded, err := s.Decode()
		if err != nil {
			return "", false
		}
		doc = decoded
	case *wirebson.Document:
		doc = s
	default:
		return "", false
	}
	raw, ok := doc.Get(field).(wirebson.RawDocument)
	if !ok {
		return "", false
	}
	filter, err := raw.Decode()
	if err != nil {
		return "", false
	}
	switch id := filter.Get("_id").(type) {
	case string:
		return "s:" + id, true
	case wirebson.ObjectID:
		return fmt.Sprintf("o:%x", id[:]), true
	// Numbers of different types can be the same _id: one key for equal values (a big
	// int64 may share a key with its neighbours, which only serialises a little more).
	case int32:
		return fmt.Sprintf("n:%v", float64(id)), true
	case int64:
		return fmt.Sprintf("n:%v", float64(id)), true
	case float64:
		return fmt.Sprintf("n:%v", id), true
	default: // documents (maybe operators such as $in), arrays, other types: any document
		return "", false
	}
}
