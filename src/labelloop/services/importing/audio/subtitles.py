"""SRT and WebVTT files beside their audio files (`calls/07.wav` and `calls/07.srt` or `.vtt`), and
the pairing of annotation files with audio files that RTTM shares (docs/audio.md, "Formats").

Read strictly, each problem naming the file, the line and the field; the inverse of
`services/exporting/audio/subtitles.py`, times as `exporting/audio/timecodes.py` reads them.
- SRT: blocks separated by blank lines, each the cue's number, `HH:MM:SS,mmm --> HH:MM:SS,mmm`,
  then its text lines (none for an empty cue).
- WebVTT: the `WEBVTT` line, header lines to the first blank line, then cues, each an optional
  identifier, `start --> end` (cue settings after it are allowed and not kept) and its text; NOTE,
  STYLE and REGION blocks are skipped. A leading voice `<v name>` names the segment's class; other
  tags are dropped and character references undone.
A cue's text is the segment's transcript when the question has `transcript: true`, its class
taken from the voice (WebVTT) or else the question's first label; for a question without
transcripts the text is the class, one of the question's labels. An audio file with no annotation
file is "nothing here" (no segments); an annotation file with no audio file is a problem, unless
the archive holds no audio file at all: then each is for an item already in the project
(attach.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from labelloop.errors import Problem
from labelloop.services.exporting.audio.timecodes import is_blank, parse_clock, read_vtt_text
from labelloop.services.exporting.media import stem
from labelloop.services.importing.archive import Member
from labelloop.services.importing.audio import rttm
from labelloop.services.importing.audio.datasets import AudioDatasetArchive, AudioEntry, RawSegment
from labelloop.services.importing.names import AUDIO_SUFFIXES, suffix
from labelloop.services.importing.readers import Where, shown

SUFFIX = {"srt": ".srt", "webvtt": ".vtt", "rttm": ".rttm"}
WHAT = {"srt": "SRT", "webvtt": "WebVTT", "rttm": "RTTM"}
OURS = frozenset({"references.csv", "skipped.csv"})  # what an export writes beside them
_TIMING = re.compile(r"[ \t]*(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+(.*))?")


def paired(
    archive: AudioDatasetArchive, by_name: dict[str, Member], fmt: str
) -> Iterator[tuple[str, str | None] | Problem]:
    """(audio file, its annotation file or None) for every audio file, in name order; a problem
    for an annotation file without its audio file, or with two, and for any other file."""
    ending = SUFFIX[fmt]
    audio: dict[str, list[str]] = {}
    for n in by_name:
        if suffix(n) in AUDIO_SUFFIXES:
            audio.setdefault(stem(n), []).append(n)
    notes = sorted(n for n in by_name if suffix(n) == ending)
    if not notes:
        yield Problem(f"an {WHAT[fmt]} archive holds {ending} files, each beside its audio file "
                      f"(calls/07.wav and calls/07{ending})")
        return
    for n in sorted(by_name):
        if n not in OURS and suffix(n) != ending and suffix(n) not in AUDIO_SUFFIXES:
            yield Where(file=n).problem(f"neither an audio file nor an {WHAT[fmt]} file")
    if archive.attach:  # no audio files: each is for an item already in the project
        for n in notes:
            yield stem(n), n
        return
    named: dict[str, str] = {}
    for n in notes:
        found = audio.get(stem(n), [])
        if not found:
            yield Where(file=n).problem(f"no audio file beside it (the same path with an audio suffix: "
                                        f"{shown(stem(n))}.wav, .flac, .mp3, ...)")
        elif len(found) > 1:
            both = ", ".join(shown(a) for a in sorted(found))
            yield Where(file=n).problem(f"this file would be for {both}: rename one")
        else:
            named[found[0]] = n
    for files in sorted(audio.values()):
        for a in sorted(files):
            yield a, named.get(a)


def entries(
    archive: AudioDatasetArchive, by_name: dict[str, Member], fmt: str
) -> Iterator[AudioEntry | Problem]:
    read = {"srt": _srt, "webvtt": _vtt, "rttm": rttm.segments}[fmt]
    for found in paired(archive, by_name, fmt):
        if isinstance(found, Problem):
            yield found
            continue
        audio, note = found
        where = Where(file=note or audio)
        segments: list[RawSegment] = []
        if note is not None:
            text = archive.text_of(by_name[note])
            if isinstance(text, Problem):
                yield text
                continue
            for got in read(archive, note, text):
                if isinstance(got, Problem):
                    yield got  # and the file's other segments are still checked against the audio
                else:
                    segments.append(got)
        yield AudioEntry(audio, audio, where, None, segments)
        if archive.stopped:
            return


def srt_entries(archive: AudioDatasetArchive, by_name: dict[str, Member]) -> Iterator[AudioEntry | Problem]:
    return entries(archive, by_name, "srt")


def vtt_entries(archive: AudioDatasetArchive, by_name: dict[str, Member]) -> Iterator[AudioEntry | Problem]:
    return entries(archive, by_name, "webvtt")


def rttm_entries(archive: AudioDatasetArchive, by_name: dict[str, Member]) -> Iterator[AudioEntry | Problem]:
    return entries(archive, by_name, "rttm")


def _blocks(lines: list[str], first: int) -> Iterator[tuple[int, list[str]]]:
    """(line number of its first line, its lines) for each run of non-blank lines from `first`."""
    block: list[str] = []
    start = 0
    for n, line in enumerate(lines[first:], first + 1):
        if is_blank(line):
            if block:
                yield start, block
            block = []
        else:
            if not block:
                start = n
            block.append(line)
    if block:
        yield start, block


def _segment(
    archive: AudioDatasetArchive, where: Where, fmt: str, timing: str, text: str, voice: str | None
) -> RawSegment | Problem:
    found = _TIMING.fullmatch(timing)
    if found is None or (fmt == "srt" and found.group(3)):
        shape = "HH:MM:SS,mmm --> HH:MM:SS,mmm" if fmt == "srt" else "HH:MM:SS.mmm --> HH:MM:SS.mmm"
        return where.problem(f"expected the cue's timing, {shape}; got {shown(timing[:80])!r}", "start")
    times: list[float] = []
    for field, raw in (("start", found.group(1)), ("end", found.group(2))):
        try:
            times.append(parse_clock(raw, fmt))
        except ValueError as e:
            return where.problem(str(e), field)
    if archive.transcript:
        label = archive.label(voice, where, "voice", "voice") if voice is not None else archive.spec.values[0]
        if isinstance(label, Problem):
            return label
        return RawSegment(where, times[0], times[1], label, text)
    label = archive.label(text.strip(), where, "text", "the cue's text (the class, for a question without "
                          "transcripts)")
    if isinstance(label, Problem):
        return label
    return RawSegment(where, times[0], times[1], label, None)


def _srt(archive: AudioDatasetArchive, file: str, text: str) -> Iterator[RawSegment | Problem]:
    for start, block in _blocks(text.split("\n"), 0):
        where = Where(file=file, line=start)
        if not block[0].strip().isdigit():
            yield where.problem(f"expected the cue's number; got {shown(block[0][:80])!r}", "number")
            continue
        if len(block) < 2:
            yield where.problem("the cue has no timing line (HH:MM:SS,mmm --> HH:MM:SS,mmm)", "start")
            continue
        yield _segment(archive, Where(file=file, line=start + 1), "srt", block[1], "\n".join(block[2:]), None)


def _vtt(archive: AudioDatasetArchive, file: str, text: str) -> Iterator[RawSegment | Problem]:
    lines = text.split("\n")
    head = lines[0] if lines else ""
    if not (head == "WEBVTT" or head.startswith(("WEBVTT ", "WEBVTT\t"))):
        yield Where(file=file, line=1).problem("a WebVTT file starts with the line WEBVTT")
        return
    header_end = next((i for i, line in enumerate(lines) if is_blank(line)), len(lines))
    for start, block in _blocks(lines, header_end):
        if block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in block[0]:
            continue
        timing = 0 if "-->" in block[0] else 1
        where = Where(file=file, line=start + timing)
        if timing >= len(block) or "-->" not in block[timing]:
            yield Where(file=file, line=start).problem(
                "expected a cue: its timing line, HH:MM:SS.mmm --> HH:MM:SS.mmm; got "
                f"{shown(block[0][:80])!r}",
                "start")
            continue
        voice, body = read_vtt_text("\n".join(block[timing + 1:]))
        yield _segment(archive, where, "webvtt", block[timing], body, voice)
