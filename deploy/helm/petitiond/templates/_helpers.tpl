{{/* Names */}}
{{- define "petitiond.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "petitiond.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels: (list $ "component") */}}
{{- define "petitiond.labels" -}}
{{- $ := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ $.Release.Service }}
app.kubernetes.io/part-of: petitions
app.kubernetes.io/version: {{ include "petitiond.tag" $ | quote }}
{{ include "petitiond.selectorLabels" . }}
{{- end }}

{{- define "petitiond.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "petitiond.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "petitiond.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "petitiond.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Images */}}
{{- define "petitiond.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* (list $ componentTag) */}}
{{- define "petitiond.image" -}}
{{- $ := index . 0 }}
{{- $tag := default (include "petitiond.tag" $) (index . 1) }}
{{- if $tag }}
{{- printf "%s:%s" $.Values.image.repository $tag }}
{{- else }}
{{- $.Values.image.repository }}
{{- end }}
{{- end }}

{{- define "petitiond.secretName" -}}
{{- required "secrets.existingSecret: name the Secret holding the database URL and the keys (deploy/README.md)" .Values.secrets.existingSecret }}
{{- end }}

{{/* The environment every petitiond container needs besides the ConfigMap: the secrets and
     Temporal's TLS files. Also used by the migration Job, which runs before the ConfigMap
     exists on a first install. */}}
{{- define "petitiond.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "petitiond.secretName" . }}
      key: {{ .Values.secrets.databaseURLKey }}
- name: PETITIONS_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "petitiond.secretName" . }}
      key: {{ .Values.secrets.keysKey }}
{{- if .Values.config.oidc.issuer }}
- name: PETITIONS_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "petitiond.secretName" . }}
      key: {{ .Values.secrets.oidcClientSecretKey }}
{{- end }}
{{- end }}

{{- define "petitiond.temporalTLSEnv" -}}
{{- with .Values.temporal.tls }}
{{- if .existingSecret }}
- name: TEMPORAL_TLS_CA
  value: /etc/petitiond/temporal-tls/ca.crt
{{- if .clientCertificate }}
- name: TEMPORAL_TLS_CERT
  value: /etc/petitiond/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/petitiond/temporal-tls/tls.key
{{- end }}
{{- with .serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Memory limit for the Go runtime's garbage collector, from the container's limit. */}}
{{- define "petitiond.gomemlimit" -}}
{{- if and .resources .resources.limits .resources.limits.memory }}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      resource: limits.memory
{{- end }}
{{- end }}

{{- define "petitiond.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/petitiond/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.config.policiesJSON }}
- name: policies
  mountPath: /etc/petitiond/policies
  readOnly: true
{{- end }}
{{- end }}

{{- define "petitiond.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
{{- with .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- if .Values.config.policiesJSON }}
- name: policies
  configMap:
    name: {{ include "petitiond.fullname" . }}-policies
{{- end }}
{{- end }}

{{/* Node spreading: (list $ "component" enabled) */}}
{{- define "petitiond.spread" -}}
{{- $ := index . 0 }}
{{- if index . 2 }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "petitiond.selectorLabels" (list $ (index . 1)) | nindent 8 }}
{{- end }}
{{- end }}

{{/* The temporal CLI of the admin-tools image reads the same TEMPORAL_* variables. */}}
{{- define "petitiond.adminToolsEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address: the Temporal frontend's host:port" .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ required "temporal.namespace" .Values.temporal.namespace | quote }}
- name: HOME
  value: /tmp
{{- with include "petitiond.temporalTLSEnv" . }}
{{ . }}
{{- end }}
{{- end }}

{{- define "petitiond.adminToolsMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/petitiond/temporal-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* The admin listener's container port and scrape annotations (metrics.*). */}}
{{- define "petitiond.adminPort" -}}
{{- if .Values.metrics.enabled -}}
- name: admin
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end }}
{{- end }}

{{- define "petitiond.scrapeAnnotations" -}}
{{- if and .Values.metrics.enabled .Values.metrics.scrapeAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}
