#!/usr/bin/env node
// The `retail24` command. Sources are TypeScript run through tsx (see docs/decisions.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
