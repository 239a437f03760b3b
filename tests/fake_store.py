"""An in-memory stand-in for the part of PyMongo's async collection API the project uses.

For the runtime's outbox and relay tests (and handler tests that want no store):
the same test suite runs against this fake and against the real store, so the
fake is held to the real thing's behaviour. It implements what the code uses
and no more: top-level and dotted equality (an array field matches an element),
`$ne`, `$in`, `$exists`, `$gt`; `$set`, `$unset`, `$inc`, `$push` (with `$each`),
`$addToSet`, `$pull` (exact value), `$setOnInsert`; unique indexes; bulk writes
of `UpdateOne`/`InsertOne`/`ReplaceOne`. Every operation is atomic (one event loop).
It counts the commands it was sent, so a test can say how many round trips a
piece of code needs.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import InsertOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

Doc = dict[str, Any]
_MISSING = object()


def _get(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _equal(value: Any, wanted: Any) -> bool:
    if value is _MISSING:
        return wanted is None
    if isinstance(value, list) and not isinstance(wanted, list):
        return any(_equal(v, wanted) for v in value)
    return bool(value == wanted)


def matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$or":
            if not any(matches(doc, q) for q in condition):
                return False
            continue
        value = _get(doc, key)
        if isinstance(condition, Mapping) and any(k.startswith("$") for k in condition):
            for op, arg in condition.items():
                if op == "$ne" and _equal(value, arg):
                    return False
                if op == "$in" and not any(_equal(value, a) for a in arg):
                    return False
                if op == "$exists" and (value is not _MISSING) != bool(arg):
                    return False
                if op == "$gt" and (value is _MISSING or value is None or not value > arg):
                    return False
                if op not in ("$ne", "$in", "$exists", "$gt"):
                    raise NotImplementedError(f"fake store: {op}")
        elif not _equal(value, condition):
            return False
    return True


def _set(doc: Doc, path: str, value: Any) -> None:
    parts = path.split(".")
    target: Any = doc
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        target[int(parts[-1])] = value
    else:
        target[parts[-1]] = value


def _unset(doc: Doc, path: str) -> None:
    parts = path.split(".")
    target: Any = doc
    for part in parts[:-1]:
        target = target.get(part, {}) if isinstance(target, dict) else target[int(part)]
    if isinstance(target, dict):
        target.pop(parts[-1], None)


def apply_update(doc: Doc, ops: Mapping[str, Any], *, inserting: bool) -> None:
    for op, fields in ops.items():
        for path, arg in fields.items():
            current = _get(doc, path)
            if op == "$set":
                _set(doc, path, copy.deepcopy(arg))
            elif op == "$setOnInsert":
                if inserting:
                    _set(doc, path, copy.deepcopy(arg))
            elif op == "$unset":
                _unset(doc, path)
            elif op == "$inc":
                _set(doc, path, (0 if current is _MISSING else current) + arg)
            elif op in ("$push", "$addToSet"):
                items = arg["$each"] if isinstance(arg, Mapping) and "$each" in arg else [arg]
                array = [] if current is _MISSING else list(current)
                for item in items:
                    if op == "$push" or item not in array:
                        array.append(copy.deepcopy(item))
                _set(doc, path, array)
            elif op == "$pull":
                if current is not _MISSING:
                    _set(doc, path, [v for v in current if v != arg])
            else:
                raise NotImplementedError(f"fake store: {op}")


@dataclass
class FakeUpdateResult:
    matched_count: int
    modified_count: int
    upserted_id: Any = None


@dataclass
class FakeInsertResult:
    inserted_id: Any


@dataclass
class FakeDeleteResult:
    deleted_count: int


@dataclass
class FakeBulkResult:
    matched_count: int
    modified_count: int
    inserted_count: int
    upserted_count: int
    upserted_ids: dict[int, Any]


class FakeCursor:
    def __init__(self, docs: list[Doc]) -> None:
        self._docs = docs
        self._limit = 0

    def sort(self, key: str | Sequence[tuple[str, int]], direction: int = 1) -> FakeCursor:
        keys = [(key, direction)] if isinstance(key, str) else list(key)
        for name, order in reversed(keys):
            self._docs.sort(key=lambda d, n=name: _sort_key(_get(d, n)), reverse=order < 0)
        return self

    def limit(self, n: int) -> FakeCursor:
        self._limit = n
        return self

    def _result(self) -> list[Doc]:
        return self._docs[: self._limit] if self._limit else list(self._docs)

    async def to_list(self, length: int | None = None) -> list[Doc]:
        docs = self._result()
        return docs[:length] if length else docs

    def __aiter__(self) -> Any:
        async def gen() -> Any:
            for doc in self._result():
                yield doc

        return gen()


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is _MISSING or value is None else (1, value)


def _project(doc: Doc, projection: Mapping[str, Any] | None) -> Doc:
    doc = copy.deepcopy(doc)
    if not projection:
        return doc
    if all(not v for k, v in projection.items() if k != "_id"):
        for key in projection:
            doc.pop(key, None)
        return doc
    kept = {k: doc[k] for k in projection if projection[k] and k in doc}
    return {"_id": doc["_id"], **kept}


class FakeCollection:
    def __init__(self, name: str, database: FakeDatabase | None = None) -> None:
        self.name = name
        self.database = database
        self.docs: dict[Any, Doc] = {}
        self.unique: list[str] = []
        self.commands: Counter[str] = Counter()

    async def create_index(self, keys: Any, unique: bool = False, **_: Any) -> str:
        self.commands["createIndexes"] += 1
        if unique and isinstance(keys, str):
            self.unique.append(keys)
        return str(keys)

    def _check_unique(self, doc: Doc, except_id: Any = _MISSING) -> None:
        for field in self.unique:
            value = _get(doc, field)
            if value is _MISSING:
                continue
            for other in self.docs.values():
                if other["_id"] != except_id and _get(other, field) == value:
                    raise DuplicateKeyError(f"duplicate key {field}", 11000)

    def _matching(self, query: Mapping[str, Any]) -> list[Doc]:
        if "_id" in query and not isinstance(query["_id"], Mapping):
            doc = self.docs.get(query["_id"])
            return [doc] if doc is not None and matches(doc, query) else []
        return [d for d in self.docs.values() if matches(d, query)]

    async def insert_one(self, doc: Mapping[str, Any]) -> FakeInsertResult:
        self.commands["insert"] += 1
        return self._insert(doc)

    def _insert(self, doc: Mapping[str, Any]) -> FakeInsertResult:
        new = copy.deepcopy(dict(doc))
        if new["_id"] in self.docs:
            raise DuplicateKeyError("duplicate key _id", 11000)
        self._check_unique(new)
        self.docs[new["_id"]] = new
        return FakeInsertResult(new["_id"])

    async def insert_many(
        self, docs: Iterable[Mapping[str, Any]], ordered: bool = True, **_: Any
    ) -> None:
        self.commands["insert"] += 1
        errors: list[Doc] = []
        inserted = 0
        for index, doc in enumerate(docs):
            try:
                self._insert(doc)
                inserted += 1
            except DuplicateKeyError as exc:
                errors.append({"index": index, "code": 11000, "errmsg": str(exc)})
                if ordered:
                    break
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nInserted": inserted})

    def find(
        self, query: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None
    ) -> FakeCursor:
        self.commands["find"] += 1
        return FakeCursor([_project(d, projection) for d in self._matching(query or {})])

    async def find_one(
        self, query: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None
    ) -> Doc | None:
        self.commands["find"] += 1
        found = self._matching(query or {})
        return _project(found[0], projection) if found else None

    def _update(
        self, query: Mapping[str, Any], ops: Mapping[str, Any], upsert: bool
    ) -> tuple[FakeUpdateResult, Doc | None]:
        found = self._matching(query)
        if found:
            doc = found[0]
            before = copy.deepcopy(doc)
            candidate = copy.deepcopy(doc)
            apply_update(candidate, ops, inserting=False)
            self._check_unique(candidate, except_id=doc["_id"])
            self.docs[doc["_id"]] = candidate
            return FakeUpdateResult(1, int(candidate != before)), candidate
        if not upsert:
            return FakeUpdateResult(0, 0), None
        new: Doc = {k: v for k, v in query.items() if not k.startswith("$")}
        apply_update(new, ops, inserting=True)
        self._insert(new)
        return FakeUpdateResult(0, 0, new["_id"]), self.docs[new["_id"]]

    async def update_one(
        self, query: Mapping[str, Any], ops: Mapping[str, Any], upsert: bool = False
    ) -> FakeUpdateResult:
        self.commands["update"] += 1
        return self._update(query, ops, upsert)[0]

    async def update_many(
        self, query: Mapping[str, Any], ops: Mapping[str, Any], upsert: bool = False
    ) -> FakeUpdateResult:
        self.commands["update"] += 1
        matched = modified = 0
        for doc in self._matching(query):
            result, _ = self._update({"_id": doc["_id"]}, ops, False)
            matched += result.matched_count
            modified += result.modified_count
        return FakeUpdateResult(matched, modified)

    async def replace_one(
        self, query: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool = False
    ) -> FakeUpdateResult:
        self.commands["update"] += 1
        return self._replace(query, replacement, upsert)

    def _replace(
        self, query: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool
    ) -> FakeUpdateResult:
        found = self._matching(query)
        if found:
            new = {**copy.deepcopy(dict(replacement)), "_id": found[0]["_id"]}
            self.docs[new["_id"]] = new
            return FakeUpdateResult(1, 1)
        if not upsert:
            return FakeUpdateResult(0, 0)
        new = {**copy.deepcopy(dict(replacement)), "_id": query["_id"]}
        self._insert(new)
        return FakeUpdateResult(0, 0, new["_id"])

    async def find_one_and_update(
        self,
        query: Mapping[str, Any],
        ops: Mapping[str, Any],
        upsert: bool = False,
        return_document: bool = ReturnDocument.BEFORE,
        **_: Any,
    ) -> Doc | None:
        self.commands["findAndModify"] += 1
        found = self._matching(query)
        before = copy.deepcopy(found[0]) if found else None
        _, after = self._update(query, ops, upsert)
        return copy.deepcopy(after) if return_document == ReturnDocument.AFTER else before

    async def delete_one(self, query: Mapping[str, Any]) -> FakeDeleteResult:
        self.commands["delete"] += 1
        found = self._matching(query)
        if found:
            del self.docs[found[0]["_id"]]
        return FakeDeleteResult(len(found[:1]))

    async def delete_many(self, query: Mapping[str, Any]) -> FakeDeleteResult:
        self.commands["delete"] += 1
        found = self._matching(query)
        for doc in found:
            del self.docs[doc["_id"]]
        return FakeDeleteResult(len(found))

    async def count_documents(self, query: Mapping[str, Any]) -> int:
        self.commands["count"] += 1
        return len(self._matching(query))

    async def bulk_write(self, requests: Sequence[Any], ordered: bool = True) -> FakeBulkResult:
        self.commands["bulk"] += 1  # one round trip
        matched = modified = inserted = upserted = 0
        upserted_ids: dict[int, Any] = {}
        for index, request in enumerate(requests):
            spec = request._doc if isinstance(request, InsertOne) else None
            if isinstance(request, InsertOne):
                self._insert(spec)
                inserted += 1
            elif isinstance(request, UpdateOne):
                result, _ = self._update(request._filter, request._doc, bool(request._upsert))
            elif isinstance(request, ReplaceOne):
                result = self._replace(request._filter, request._doc, bool(request._upsert))
            else:
                raise NotImplementedError(f"fake store: {type(request).__name__}")
            if isinstance(request, (UpdateOne, ReplaceOne)):
                matched += result.matched_count
                modified += result.modified_count
                if result.upserted_id is not None:
                    upserted += 1
                    upserted_ids[index] = result.upserted_id
        return FakeBulkResult(matched, modified, inserted, upserted, upserted_ids)


class FakeDatabase:
    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.collections: dict[str, FakeCollection] = {}

    def __getitem__(self, name: str) -> FakeCollection:
        if name not in self.collections:
            self.collections[name] = FakeCollection(name, self)
        return self.collections[name]

    def commands(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for collection in self.collections.values():
            total.update(collection.commands)
        return total
