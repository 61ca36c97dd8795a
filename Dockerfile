# syntax=docker/dockerfile:1

# Production dependencies only. Build tools are here in case better-sqlite3 has no prebuilt
# binary for this platform and must compile; they do not reach the final image.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

# Compile TypeScript with the dev dependencies, which then stay behind.
FROM deps AS build
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY data/postgres ./data/postgres
COPY data/mysql ./data/mysql
# The embedded SQLite store lives in /app/data: writable by the unprivileged user, mount a volume there.
# `prefect-auth-proxy keys ...` inside the container uses the same environment as the server.
RUN chown node:node /app/data \
 && chmod +x dist/cli/main.js \
 && ln -s /app/dist/cli/main.js /usr/local/bin/prefect-auth-proxy
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthcheck').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
