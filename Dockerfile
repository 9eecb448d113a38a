# One image, two commands: `node bin/retail24.mjs worker` and `node bin/retail24.mjs api`
# (docker-compose.yml picks the command per service). Runs TypeScript through tsx, which is a
# runtime dependency: there is no build step to keep in sync with the sources.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080

# Dependencies first so source edits do not invalidate the npm layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

USER node
EXPOSE 8080
CMD ["node", "bin/retail24.mjs", "api"]
