import { join } from "node:path";
import { BUILT_PAGES, buildPages, projectRoot, writePages } from "../server/page-assets.js";

/**
 * `npm run build`'s last step: bundles the pages (src/pages, GraphiQL's assets) into dist/pages, which the build
 * (`npm run start:prod`) serves. Run from the checkout, after tsc has compiled this file.
 */
const root = projectRoot();
const bundle = await buildPages(root);
await writePages(bundle, join(root, BUILT_PAGES));
const bytes = bundle.files.reduce((sum, file) => sum + file.body.length, 0);
console.log(`pages: ${bundle.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB, in ${BUILT_PAGES}`);
