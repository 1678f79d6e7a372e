# Flow in a container: `docker compose up` (compose.yaml) or
#   docker build -t flow . && docker run -p 8080:8080 -v flow-data:/app/data flow
# Stage 1 builds the installable package exactly as `npm run package` does; stage 2 installs it
# (its dependencies are inside the tarball: no registry access) on a slim Node 20 with Python
# (the bundled alarm and webhook-forward plugins) and runs it as a non-root user with its data in the /app/data volume.
# NODE_IMAGE must provide Node 20 with npm and (for stage 2) python3 or apt-get; CI builds one
# from the host's Debian packages (.ci/container-base.sh).
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Behind a TLS-intercepting proxy: --build-arg NODE_EXTRA_CA_CERTS=<CA bundle inside the image>.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY . .
# npm ci runs the root `prepare` script: the full build (TypeScript, web UI, plugins).
RUN npm ci --no-audit --no-fund && node scripts/package.mjs --out /out --offline

FROM ${NODE_IMAGE}
RUN command -v python3 >/dev/null || (apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*)
COPY --from=build /out/ /tmp/package/
RUN npm install -g --offline --no-audit --no-fund --prefix /opt/flow /tmp/package/flow-server-*.tgz \
 && rm -rf /tmp/package /root/.npm \
 && mkdir -p /app/data && chown 10001:10001 /app/data
ENV HOME=/app NODE_ENV=production
WORKDIR /app
USER 10001:10001
VOLUME /app/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.FLOW_SERVER_PORT||process.env.GOTIFY_SERVER_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/opt/flow/bin/flow", "--datadir", "/app/data"]
