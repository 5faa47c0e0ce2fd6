#!/bin/sh
# Download one artifact from Maven Central and check its SHA-1, or fail.
#   fetch-maven.sh COORDINATE SHA1 DIRECTORY
# COORDINATE is group:artifact:version or group:artifact:version:extension:classifier,
# the syntax of core/jars.toml (so the pins can be compared with it).
set -eu

if [ $# -ne 3 ]; then
  echo "usage: fetch-maven.sh COORDINATE SHA1 DIRECTORY" >&2
  exit 2
fi
coordinate=$1
sha1=$2
directory=$3
repository=${MAVEN_REPOSITORY:-https://repo1.maven.org/maven2}

old_ifs=$IFS
IFS=:
# shellcheck disable=SC2086  # split on ':' on purpose
set -- $coordinate
IFS=$old_ifs
case $# in
  3) group=$1 artifact=$2 version=$3 extension=jar classifier= ;;
  5) group=$1 artifact=$2 version=$3 extension=$4 classifier=$5 ;;
  *) echo "fetch-maven: bad coordinate '$coordinate'" >&2; exit 2 ;;
esac

file="$artifact-$version${classifier:+-$classifier}.$extension"
url="$repository/$(printf '%s' "$group" | tr . /)/$artifact/$version/$file"
mkdir -p "$directory"
curl --fail --silent --show-error --location --retry 3 --output "$directory/$file" "$url"
if ! printf '%s  %s\n' "$sha1" "$directory/$file" | sha1sum -c - >/dev/null 2>&1; then
  echo "fetch-maven: SHA-1 mismatch for $coordinate ($url): expected $sha1" >&2
  rm -f "$directory/$file"
  exit 1
fi
echo "fetched $file"
