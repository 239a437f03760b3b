{{/* Names and labels. A service's objects are named <release>-<service>. */}}
{{- define "indgang.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "indgang.selectorLabels" -}}
app.kubernetes.io/name: indgang
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "indgang.labels" -}}
{{ include "indgang.selectorLabels" . }}
app.kubernetes.io/part-of: indgang
{{- $svc := index .root.Values.services .name | default dict }}
app.kubernetes.io/version: {{ $svc.imageTag | default .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* The image of a service: <registry>/indgang-<service>:<tag>, the tag the service's
own (services.<name>.imageTag, to move one service alone) or image.tag; required. */}}
{{- define "indgang.image" -}}
{{- $registry := required "image.registry is required (where the images built from deploy/Dockerfile are pushed)" .root.Values.image.registry -}}
{{- $tag := required "image.tag is required (the release's image tag)" (.tag | default .root.Values.image.tag) -}}
{{- printf "%s/indgang-%s:%s" (trimSuffix "/" $registry) .image $tag -}}
{{- end -}}

{{/* A secret key as an environment variable. */}}
{{- define "indgang.secretEnv" -}}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* Kafka's client settings (the services and the topics Job). */}}
{{- define "indgang.kafkaEnv" -}}
{{- $kafka := .root.Values.kafka -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is required (host:port[,host:port])" $kafka.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $kafka.securityProtocol | quote }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ $kafka.topicPrefix | quote }}
{{- if eq $kafka.securityProtocol "SASL_SSL" }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $kafka.saslMechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ .username | quote }}
{{ include "indgang.secretEnv" (dict "key" "KAFKA_SASL_PASSWORD" "secret" .secret) }}
{{- end }}
{{- if $kafka.caConfigMap.name }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/indgang/kafka-ca/{{ $kafka.caConfigMap.key }}
{{- end }}
{{- end -}}
