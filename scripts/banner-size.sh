#!/bin/sh
# Compares what a site ships for the Custos consent banner with two common
# open-source banners, gzipped at -9. Installs them from npm into a
# throw-away directory (the local npm cache is used when it has them).
#
#   scripts/banner-size.sh [KLARO_VERSION] [COOKIECONSENT_VERSION]
set -eu

klaro=${1:-0.7.22}
cc=${2:-3.1.0}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm init -y >/dev/null 2>&1 &&
	npm install --no-audit --no-fund --ignore-scripts --prefer-offline \
		"klaro@$klaro" "vanilla-cookieconsent@$cc" >/dev/null 2>&1) || {
	echo "npm install failed" >&2
	exit 2
}

# A site transfers each file compressed on its own: sum the files.
gz() {
	n=0
	for f in "$@"; do n=$((n + $(gzip -9 -n -c "$f" | wc -c))); done
	echo "$n"
}
raw() { cat "$@" | wc -c | tr -d ' '; }
row() {
	name=$1
	shift
	printf '%-44s %9s %9s\n' "$name" "$(raw "$@")" "$(gz "$@")"
}

k=$tmp/node_modules/klaro/dist
c=$tmp/node_modules/vanilla-cookieconsent/dist
printf '%-44s %9s %9s\n' "what a site loads" "bytes" "gzip -9"
row "custos banner.js (includes CSS)" "$root/internal/web/banner/banner.js"
row "klaro $klaro klaro.js (includes CSS)" "$k/klaro.js"
row "klaro $klaro klaro-no-css.js + klaro.min.css" "$k/klaro-no-css.js" "$k/klaro.min.css"
row "vanilla-cookieconsent $cc umd.js + css" "$c/cookieconsent.umd.js" "$c/cookieconsent.css"
echo
echo "Two files are compressed one by one, as served. The Custos banner also fetches"
echo "its configuration (texts, categories, vendors) from /v1/public/banner: about"
echo "1.2-1.5 KB gzipped for the starter manifest; the others carry their texts in"
echo "the script (klaro: all its translations) or in the site's own config."
