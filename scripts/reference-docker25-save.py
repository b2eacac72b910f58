#!/usr/bin/env python3
"""Rewrite a Docker 20.10 `docker save` tar into the layout Docker >= 26.1 writes
(graphdriver store, moby image/tarexport/save.go), as documented in
docs/reference-docker.md ("Docker 25+ save format").

usage: reference-docker25-save.py IN.tar OUT.tar [--save-time UNIX]

What is reproduced: file list and order (lexical walk of the temp dir),
blob names, JSON bytes (Go encoding/json: compact, map keys sorted, struct
field order, json.Encoder adds a trailing newline, json.Marshal does not),
USTAR headers as Go's archive/tar writes them (mode with S_IF* type bits,
uid/gid 0, empty uname/gname since Docker 23), mtimes per file.
The unreferenced legacy v1 layer-JSON blobs are copied from the 20.10
`<v1id>/json` files (same IDs; a newer daemon may serialise them slightly
differently, nothing references them).
"""
import hashlib
import json
import sys
import tarfile
from datetime import datetime

LAYER_MT = 'application/vnd.oci.image.layer.v1.tar'
MANIFEST_MT = 'application/vnd.oci.image.manifest.v1+json'
CONFIG_MT = 'application/vnd.oci.image.config.v1+json'
INDEX_MT = 'application/vnd.oci.image.index.v1+json'


def gojson(obj):
    """Compact JSON like Go's json.Marshal for our inputs (ASCII, no HTML chars)."""
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode()


def sha(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def octal(value, size):
    return ('%0*o' % (size - 1, value)).encode() + b'\0'


def header(name, size, mode, mtime, typeflag):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(mtime, 12)
    h[148:156] = b' ' * 8
    h[156:157] = typeflag
    h[257:263] = b'ustar\0'
    h[263:265] = b'00'
    h[329:337] = octal(0, 8)
    h[337:345] = octal(0, 8)
    h[148:156] = ('%06o' % sum(h)).encode() + b'\0 '
    return bytes(h)


def created_seconds(config_bytes):
    created = json.loads(config_bytes).get('created')
    if not created:
        return 0
    return int(datetime.fromisoformat(created[:19] + '+00:00').timestamp())


def ref_parts(repo_tag):
    """Familiar 'name:tag' -> (fully qualified 'docker.io/...:tag', tag)."""
    name, tag = repo_tag.rsplit(':', 1)
    first = name.split('/')[0]
    if '/' not in name:
        name = 'docker.io/library/' + name
    elif '.' not in first and ':' not in first and first != 'localhost':
        name = 'docker.io/' + name
    return name + ':' + tag, tag


def convert(src, save_time):
    blobs = {}      # hex -> (bytes, mtime)
    manifest, index, repos = [], [], {}
    for item in json.load(src.extractfile('manifest.json')):
        config = src.extractfile(item['Config']).read()
        ts = created_seconds(config)
        blobs.setdefault(sha(config)[7:], (config, ts))
        diff_ids, sources = [], {}
        for layer_path in item['Layers']:
            data = src.extractfile(layer_path).read()
            digest = sha(data)
            blobs.setdefault(digest[7:], (data, ts))
            v1json = src.extractfile(layer_path.rsplit('/', 1)[0] + '/json').read()
            blobs.setdefault(sha(v1json)[7:], (v1json, ts))
            diff_ids.append(digest)
            sources[digest] = {'mediaType': LAYER_MT, 'size': len(data), 'digest': digest}
        layers = [{'mediaType': LAYER_MT, 'digest': d, 'size': sources[d]['size']} for d in diff_ids]
        oci_manifest = gojson({'schemaVersion': 2, 'mediaType': MANIFEST_MT,
                               'config': {'mediaType': CONFIG_MT, 'digest': sha(config), 'size': len(config)},
                               'layers': layers})
        blobs[sha(oci_manifest)[7:]] = (oci_manifest, 0)
        desc = {'mediaType': MANIFEST_MT, 'digest': sha(oci_manifest), 'size': len(oci_manifest)}
        repo_tags = item.get('RepoTags') or []
        for repo_tag in repo_tags:
            full, tag = ref_parts(repo_tag)
            index.append(dict(desc, annotations={'io.containerd.image.name': full,
                                                 'org.opencontainers.image.ref.name': tag}))
            repos.setdefault(repo_tag.rsplit(':', 1)[0], {})[tag] = diff_ids[-1][7:]
        if not index:
            index.append(desc)
        entry = {'Config': 'blobs/sha256/' + sha(config)[7:],
                 'RepoTags': repo_tags or None,
                 'Layers': ['blobs/sha256/' + d[7:] for d in diff_ids]}
        entry['LayerSources'] = {k: sources[k] for k in sorted(sources)}
        manifest.append(entry)
        blobs_dir_time = ts
    files = {
        'index.json': (gojson({'schemaVersion': 2, 'mediaType': INDEX_MT, 'manifests': index}), 0),
        'manifest.json': (gojson(manifest) + b'\n', 0),
        'oci-layout': (b'{"imageLayoutVersion": "1.0.0"}', 0),
    }
    if repos:
        sorted_repos = {k: dict(sorted(v.items())) for k, v in sorted(repos.items())}
        files['repositories'] = (gojson(sorted_repos) + b'\n', 0)
    out = [header('blobs/', 0, 0o40755, blobs_dir_time, b'5'),
           header('blobs/sha256/', 0, 0o40755, save_time, b'5')]
    entries = [('blobs/sha256/' + h, v) for h, v in sorted(blobs.items())] + sorted(files.items())
    for name, (data, mtime) in entries:
        out.append(header(name, len(data), 0o100644, mtime, b'0'))
        out.append(data + b'\0' * (-len(data) % 512))
    out.append(b'\0' * 1024)
    return b''.join(out)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    save_time = int(argv[4]) if len(argv) > 4 and argv[3] == '--save-time' else None
    with tarfile.open(argv[1]) as src:
        if save_time is None:
            save_time = created_seconds(src.extractfile(
                json.load(src.extractfile('manifest.json'))[0]['Config']).read())
        data = convert(src, save_time)
    with open(argv[2], 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main(sys.argv)
