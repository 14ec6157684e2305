"""The emulator's services wired together; route handlers receive this."""

from __future__ import annotations

from dataclasses import dataclass

from twelvelabs_emulator.analyze_tasks import AnalyzeTaskRunner
from twelvelabs_emulator.assets import AssetService
from twelvelabs_emulator.embed_tasks import EmbedTaskRunner
from twelvelabs_emulator.embed_v2 import EmbedV2TaskRunner
from twelvelabs_emulator.imports import Importer
from twelvelabs_emulator.indexing import Indexer
from twelvelabs_emulator.runtime import Runtime
from twelvelabs_emulator.search import SearchSessions


@dataclass
class Services:
    rt: Runtime
    indexer: Indexer
    embed_tasks: EmbedTaskRunner
    importer: Importer
    searches: SearchSessions
    assets: AssetService
    analyze_tasks: AnalyzeTaskRunner
    embed_v2: EmbedV2TaskRunner

    @classmethod
    def build(cls, rt: Runtime) -> Services:
        indexer = Indexer(rt)
        return cls(
            rt=rt,
            indexer=indexer,
            embed_tasks=EmbedTaskRunner(rt),
            importer=Importer(rt, indexer),
            searches=SearchSessions(rt.config.search_token_ttl_seconds),
            assets=AssetService(rt),
            analyze_tasks=AnalyzeTaskRunner(rt),
            embed_v2=EmbedV2TaskRunner(rt),
        )
