{{/*
Names, labels and the render-time checks shared by the templates.
*/}}

{{- define "izgraph.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's full name: object names are limited to 63 characters (DNS labels).
*/}}
{{- define "izgraph.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "izgraph.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: immutable on a Deployment, so nothing here may change between releases.
*/}}
{{- define "izgraph.selectorLabels" -}}
app.kubernetes.io/name: {{ include "izgraph.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "izgraph.labels" -}}
helm.sh/chart: {{ include "izgraph.chart" . }}
{{ include "izgraph.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "izgraph.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "izgraph.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The Secret the pods read: the user's own, or the one this chart renders from .Values.secrets.
*/}}
{{- define "izgraph.secretName" -}}
{{- default (include "izgraph.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "izgraph.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
Refuses, at render time, configurations that cannot work in a cluster. The gateway would
refuse most of them itself, but only once a pod starts, one crash loop per replica.
*/}}
{{- define "izgraph.validate" -}}
{{- $c := .Values.config -}}
{{- if not (and $c.IZGRAPH_ISSUER $c.IZGRAPH_AUDIENCE $c.IZGRAPH_JWKS_URL) -}}
{{- fail "config.IZGRAPH_ISSUER, config.IZGRAPH_AUDIENCE and config.IZGRAPH_JWKS_URL are required: without them the gateway runs its dev issuer, whose signing key each pod would generate into its own emptyDir (a token from one pod fails on the others), and anyone with `izgraph token` access could mint tokens" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.secrets.DATABASE_URL) -}}
{{- fail "secrets.DATABASE_URL (or existingSecret) is required: without it each pod would run its own SQLite database in its emptyDir" -}}
{{- end -}}
{{- $several := or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) -}}
{{- if and $several (not .Values.existingSecret) (not .Values.secrets.REDIS_URL) -}}
{{- fail "secrets.REDIS_URL (or existingSecret) is required with more than one replica: the in-process cache alone is exact only for one instance" -}}
{{- end -}}
{{- $delay := int (default "0" $c.IZGRAPH_SHUTDOWN_DELAY_SECONDS) -}}
{{- $timeout := int (default "30" $c.IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS) -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- if le $grace (add $delay $timeout) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed IZGRAPH_SHUTDOWN_DELAY_SECONDS + IZGRAPH_SHUTDOWN_TIMEOUT_SECONDS (%d + %d), or pods are killed while draining" $grace $delay $timeout) -}}
{{- end -}}
{{- end -}}
