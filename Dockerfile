# syntax=docker/dockerfile:1
# NeuralLog Tenant Operator image: `tenant-operator run` on Node.js 24 (LTS), as a non-root
# user, with production dependencies only.
#
#   docker build -t neurallog/tenant-operator:0.1.0 .
#
# Pin the base image by digest in release builds, e.g.
#   docker build --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile src/ to dist/ with the project's pinned TypeScript --------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# All dependencies, exactly as locked (TypeScript and @types/node are devDependencies).
# --ignore-scripts: the only install script is the `node` devDependency's, which would
# download a second Node.js; the image's own Node 24 runs tsc instead.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only ----------------------------------------------------
# The `node` npm package is a devDependency (it pins Node for local development), so it is
# not installed here: the base image's own Node.js 24 runs the operator. No production
# dependency has an install script, so scripts are skipped.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="neurallog-tenant-operator" \
      org.opencontainers.image.description="Kubernetes operator that turns one Tenant into an isolated NeuralLog deployment" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
# `tenant-operator cluster join` applies these to a member cluster.
COPY config/member ./config/member
# The base image's `node` user, by number so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
