// `npm pack` / `npm publish`: the package carries the built program and its exact dependency
// tree. npm-shrinkwrap.json is package-lock.json under the name npm honours in a published
// package (npm recommends it for command-line tools installed globally), so `npm install -g`
// gets the versions akm was tested with and can install from its cache without the network.
// postpack removes the copy again; package-lock.json stays the one lockfile in the repository.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';

if (process.argv[2] === 'post') {
  rmSync('npm-shrinkwrap.json', { force: true });
} else {
  if (!existsSync('dist/cli/main.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  copyFileSync('package-lock.json', 'npm-shrinkwrap.json');
}
