"""From a media file to content clips and embedding segments (index videos and embed tasks share this)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from twelvelabs_emulator import media as media_lib
from twelvelabs_emulator import vectors
from twelvelabs_emulator.models import ClipContent, MediaInfo, Segment

INDEX_CLIP_SECONDS = 6.0
FILENAME_AUDIO_WEIGHT = 0.3


def filename_tokens(filename: str) -> dict[str, float]:
    stem = PurePosixPath(filename).stem
    return {w: 1.0 for w in vectors.words(stem.replace("_", " ")) if not w.isdigit()}


def visual_tokens(clip: ClipContent, filename: str) -> dict[str, float]:
    return vectors.expand(clip.visual) | filename_tokens(filename)


def audio_tokens(clip: ClipContent, filename: str) -> dict[str, float]:
    named = {k: v * FILENAME_AUDIO_WEIGHT for k, v in filename_tokens(filename).items()}
    return vectors.expand(clip.audio) | named


def analyse(
    path: Path, info: MediaInfo, clip_length: float = INDEX_CLIP_SECONDS, start: float = 0.0, end: float | None = None
) -> list[ClipContent]:
    return media_lib.analyze_clips(path, info, media_lib.clip_bounds(info.duration, clip_length, start, end))


def build_segments(
    clips: list[ClipContent], filename: str, content_hash: str, options: list[str], scopes: list[str]
) -> list[Segment]:
    """Clip-scope segments per option, plus a video-scope segment (mean of the clips) when asked."""
    segments: list[Segment] = []
    for option in options:
        clip_vectors: list[list[float]] = []
        for n, clip in enumerate(clips):
            tokens = visual_tokens(clip, filename) if option == "visual-text" else audio_tokens(clip, filename)
            vec = vectors.embed_tokens(tokens, salt=f"{content_hash}:{option}:{n}")
            clip_vectors.append(vec)
            if "clip" in scopes:
                segments.append(
                    Segment(
                        start_offset_sec=clip.start,
                        end_offset_sec=clip.end,
                        embedding_option=option,
                        embedding_scope="clip",
                        vector=vectors.rounded(vec),
                    )
                )
        if "video" in scopes and clips:
            segments.append(
                Segment(
                    start_offset_sec=clips[0].start,
                    end_offset_sec=clips[-1].end,
                    embedding_option=option,
                    embedding_scope="video",
                    vector=vectors.rounded(vectors.mean_vector(clip_vectors)),
                )
            )
    return segments
