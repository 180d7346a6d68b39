// Copies the pinned front-end packages from node_modules into the package's static folder.
// The copies are build output (git-ignored): third-party code never enters the repository.
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "src", "aftersales", "web", "static", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "htmx-ext-sse/dist/sse.min.js": "sse.min.js",
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
  "@picocss/pico/css/pico.min.css": "pico.min.css",
  "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
  "swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
};

mkdirSync(target, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  const source = join(root, "node_modules", from);
  if (!existsSync(source)) {
    console.error(`missing ${source}: run 'npm ci' first`);
    process.exit(1);
  }
  copyFileSync(source, join(target, to));
  console.log(`copied ${from} -> static/vendor/${to}`);
}
