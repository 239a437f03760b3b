// A department's consumer of indgang's events in Go: franz-go for Kafka and
// santhosh-tekuri/jsonschema for validating each record's data against the JSON Schema
// that indgang publishes in contracts/schemas (draft 2020-12, formats asserted).
//
//	KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 GROUP_ID=jobcenter-indgang \
//	    go run . indgang.referral-made.v1
//
// The rules it follows (docs/integrators.md): its own consumer group; the schema is
// chosen by the ce_dataschema header (the schema's $id) and must match ce_type;
// deduplication on ce_id (in memory here: keep the ids in your own store); a record it
// cannot handle is parked in a file of its own with the reason, and the consumer moves on
// (never to indgang's dead-letter topic); offsets are committed after the records of a
// poll were handled or parked.
//
// Environment: KAFKA_BOOTSTRAP_SERVERS (127.0.0.1:9092), GROUP_ID (example-department),
// TOPIC_PREFIX (""), SCHEMA_DIR (../../contracts/schemas), PARKED_FILE (parked.jsonl),
// MAX_RECORDS (0 = until interrupted). One JSON line per record on stdout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/kgo"
)

func env(name, fallback string) string {
	if value, ok := os.LookupEnv(name); ok && value != "" {
		return value
	}
	return fallback
}

// Schemas holds every event's compiled schema by its $id (= the ce_dataschema header).
type Schemas struct {
	byID   map[string]*jsonschema.Schema
	typeOf map[string]string // $id -> the CloudEvent type the schema is for
}

func loadSchemas(dir string) (*Schemas, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no schemas in %s", dir)
	}
	compiler := jsonschema.NewCompiler()
	compiler.AssertFormat() // email, date, date-time are checked, not just annotated
	ids := map[string]string{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		var head struct {
			ID          string `json:"$id"`
			CloudEvents struct {
				Type string `json:"type"`
			} `json:"x-cloudevents"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, err
		}
		if err := compiler.AddResource(head.ID, doc); err != nil {
			return nil, err
		}
		ids[head.ID] = head.CloudEvents.Type
	}
	schemas := &Schemas{byID: map[string]*jsonschema.Schema{}, typeOf: ids}
	for id := range ids {
		schema, err := compiler.Compile(id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		schemas.byID[id] = schema
	}
	return schemas, nil
}

// Event is what the consumer keeps of a valid record.
type Event struct {
	ID, Type, Source, Subject string
	Data                      map[string]any
}

// check validates one record: the CloudEvents headers, then the data against its schema.
func (s *Schemas) check(record *kgo.Record) (*Event, error) {
	headers := map[string]string{}
	for _, h := range record.Headers {
		headers[h.Key] = string(h.Value)
	}
	for _, name := range []string{"ce_id", "ce_type", "ce_source", "ce_specversion", "ce_dataschema"} {
		if headers[name] == "" {
			return nil, fmt.Errorf("header %s missing", name)
		}
	}
	if headers["ce_specversion"] != "1.0" {
		return nil, fmt.Errorf("ce_specversion %q", headers["ce_specversion"])
	}
	schema, ok := s.byID[headers["ce_dataschema"]]
	if !ok {
		return nil, fmt.Errorf("unknown ce_dataschema %q (newer contracts?)", headers["ce_dataschema"])
	}
	if s.typeOf[headers["ce_dataschema"]] != headers["ce_type"] {
		return nil, fmt.Errorf("ce_type %q does not match ce_dataschema", headers["ce_type"])
	}
	data, err := jsonschema.UnmarshalJSON(bytes.NewReader(record.Value))
	if err != nil {
		return nil, fmt.Errorf("value is not JSON: %w", err)
	}
	if err := schema.Validate(data); err != nil {
		return nil, fmt.Errorf("invalid %s data: %s", headers["ce_type"], strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	object, _ := data.(map[string]any)
	return &Event{
		ID: headers["ce_id"], Type: headers["ce_type"], Source: headers["ce_source"],
		Subject: headers["ce_subject"], Data: object,
	}, nil
}

func park(path string, record *kgo.Record, reason string) error {
	headers := map[string]string{}
	for _, h := range record.Headers {
		headers[h.Key] = string(h.Value)
	}
	line, _ := json.Marshal(map[string]any{
		"topic": record.Topic, "partition": record.Partition, "offset": record.Offset,
		"key": string(record.Key), "headers": headers, "value": string(record.Value),
		"reason": reason, "parked_at": time.Now().UTC().Format(time.RFC3339Nano),
	})
	file, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer file.Close()
	_, err = file.Write(append(line, '\n'))
	return err
}

func emit(fields map[string]any) {
	line, _ := json.Marshal(fields)
	fmt.Println(string(line))
}

func main() {
	topics := os.Args[1:]
	if len(topics) == 0 {
		topics = []string{"indgang.referral-made.v1"}
	}
	prefix := env("TOPIC_PREFIX", "")
	for i, topic := range topics {
		topics[i] = prefix + topic
	}
	schemas, err := loadSchemas(env("SCHEMA_DIR", filepath.Join("..", "..", "contracts", "schemas")))
	if err != nil {
		log.Fatal(err)
	}
	limit, _ := strconv.Atoi(env("MAX_RECORDS", "0"))
	parked := env("PARKED_FILE", "parked.jsonl")

	client, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), ",")...),
		kgo.ConsumerGroup(env("GROUP_ID", "example-department")),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	seen := map[string]bool{}
	count := 0
	for ctx.Err() == nil && (limit == 0 || count < limit) {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		for _, fetchErr := range fetches.Errors() {
			log.Printf("fetch %s/%d: %v", fetchErr.Topic, fetchErr.Partition, fetchErr.Err)
		}
		var done []*kgo.Record
		fetches.EachRecord(func(record *kgo.Record) {
			if limit != 0 && count >= limit {
				return
			}
			event, err := schemas.check(record)
			switch {
			case err != nil:
				if parkErr := park(parked, record, err.Error()); parkErr != nil {
					log.Fatal(parkErr) // not parked: stop without committing it
				}
				emit(map[string]any{"outcome": "parked", "reason": err.Error()})
			case seen[event.ID]:
				emit(map[string]any{"outcome": "duplicate", "ce_id": event.ID})
			default:
				seen[event.ID] = true
				// The department's own work goes here; `reference` is the case's
				// reference the enterprise knows, `consultant` indgang's owner of the case.
				emit(map[string]any{
					"outcome": "handled", "valid": true, "ce_id": event.ID, "type": event.Type,
					"source": event.Source, "subject": event.Subject,
					"reference": event.Data["reference"],
				})
			}
			done = append(done, record)
			count++
		})
		if len(done) > 0 {
			if err := client.CommitRecords(context.Background(), done...); err != nil {
				log.Printf("commit: %v", err)
			}
		}
	}
}
