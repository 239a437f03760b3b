#!/usr/bin/env bash
# Read an indgang topic with Kafka's own console consumer (from the jars that
# deploy/infra.sh installed), headers included — what any department system or
# ops person sees on the wire.
#
#   bash deploy/consume.sh indgang.case-routed.v1            # from the beginning, then follow
#   MAX=1 bash deploy/consume.sh indgang.inquiry-received.v1  # just one record
set -euo pipefail

TOPIC="${1:?usage: deploy/consume.sh TOPIC}"
CACHE="${INDGANG_CACHE:-$HOME/.cache/indgang}"
LIBS="$CACHE/kafka-4.1.1/libs"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -d "$LIBS" ]] || { echo "Kafka jars missing: run bash deploy/infra.sh install" >&2; exit 1; }

args=(--bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}" --topic "$TOPIC"
    --from-beginning
    --property print.headers=true --property print.key=true
    --property key.separator=" | " --property headers.separator=", ")
[[ -n "${MAX:-}" ]] && args+=(--max-messages "$MAX")
exec java -Xmx256m -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" \
    -Dkafka.logs.dir="$ROOT/var/log" \
    -cp "$LIBS/*" org.apache.kafka.tools.consumer.ConsoleConsumer "${args[@]}"
