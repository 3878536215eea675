"""A scripted OpenAI Batch API on 127.0.0.1, on top of the scripted chat server
(tests/judge_server.py): ``POST /v1/files`` (multipart, purpose ``batch``), ``GET
/v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches[/{id}]`` and ``POST
/v1/batches/{id}/cancel``.

Each retrieve of a batch moves it one state on: validating -> in_progress -> completed (its
requests answered as the chat endpoint would answer them, the same usage counted). A test can
make the next batch expire with some requests unanswered (``expire_after``: answer that many, the
rest go to the error file as ``batch_expired``) or fail single requests (``fail_ids``).
``submissions`` lists the custom_ids of every batch created: what the server was asked to run.
"""

from __future__ import annotations

import email.parser
import json
import time
from typing import Any

from tests.judge_server import JudgeServer, Reply


class BatchServer(JudgeServer):
    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.submissions: list[list[str]] = []
        self.expire_after: int | None = None  # the next batch created expires after this many answers
        self.fail_ids: set[str] = set()  # custom_ids the next batch answers with a per-request error
        self.steps_in_progress = 1  # retrieves a batch spends in_progress before it ends

    def _respond(self, method: str, path: str, headers: dict, raw: bytes):
        p = path.split("?")[0].rstrip("/")
        if "/v1/files" in p or "/v1/batches" in p:
            try:
                status, payload = self._batch_api(method, p[p.index("/v1/") + 3:], headers, raw)
            except KeyError as exc:
                status, payload = 404, {"error": {"message": f"no such object {exc}"}}
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            return status, {}, body, False, 0.0
        return super()._respond(method, path, headers, raw)

    # --- the Batch API -------------------------------------------------------------------------

    def _file(self, data: bytes, name: str) -> dict[str, Any]:
        fid = f"file-{len(self.files)}"
        self.files[fid] = data
        return {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": name, "purpose": "batch", "status": "processed"}

    def _batch_api(self, method: str, p: str, headers: dict, raw: bytes) -> tuple[int, Any]:
        parts = p.strip("/").split("/")
        if parts == ["files"] and method == "POST":
            msg = email.parser.BytesParser().parsebytes(
                b"content-type: " + headers["content-type"].encode() + b"\r\n\r\n" + raw)
            fields = {part.get_param("name", header="content-disposition"): part for part in msg.get_payload()}
            assert fields["purpose"].get_payload(decode=True) == b"batch"
            f = fields["file"]
            return 200, self._file(f.get_payload(decode=True), f.get_filename() or "upload.jsonl")
        if parts[0] == "files" and len(parts) == 3 and parts[2] == "content":
            return 200, self.files[parts[1]]
        if parts == ["batches"] and method == "POST":
            req = json.loads(raw)
            assert req["endpoint"] == "/v1/chat/completions" and req["completion_window"] == "24h"
            lines = [json.loads(x) for x in self.files[req["input_file_id"]].decode().splitlines() if x.strip()]
            bid = f"batch_{len(self.batches)}"
            self.submissions.append([x["custom_id"] for x in lines])
            self.batches[bid] = {"id": bid, "object": "batch", "endpoint": req["endpoint"], "errors": None,
                                 "input_file_id": req["input_file_id"], "completion_window": "24h",
                                 "status": "validating", "output_file_id": None, "error_file_id": None,
                                 "created_at": int(time.time()), "metadata": req.get("metadata"),
                                 "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                                 "_lines": lines, "_expire": self.expire_after, "_fail": self.fail_ids, "_steps": 0}
            self.expire_after, self.fail_ids = None, set()  # both apply to the next batch only
            return 200, self._public(self.batches[bid])
        if parts == ["batches"] and method == "GET":
            return 200, {"object": "list", "data": [self._public(b) for b in self.batches.values()], "has_more": False}
        if parts[0] == "batches" and len(parts) == 2:
            b = self.batches[parts[1]]
            self._advance(b)
            return 200, self._public(b)
        if parts[0] == "batches" and len(parts) == 3 and parts[2] == "cancel":
            b = self.batches[parts[1]]
            if b["status"] in ("validating", "in_progress"):
                b["status"] = "cancelled"
            return 200, self._public(b)
        return 404, {"error": {"message": "not found"}}

    @staticmethod
    def _public(b: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in b.items() if not k.startswith("_")}

    def _advance(self, b: dict[str, Any]) -> None:
        if b["status"] == "validating":
            b["status"] = "in_progress"
        elif b["status"] == "in_progress":
            b["_steps"] += 1
            if b["_steps"] >= self.steps_in_progress:
                self._finish(b)

    def _finish(self, b: dict[str, Any]) -> None:
        out, err = [], []
        for n, line in enumerate(b["_lines"]):
            cid = line["custom_id"]
            rid = f"batch_req_{b['id']}_{n}"
            if b["_expire"] is not None and n >= b["_expire"]:
                err.append({"id": rid, "custom_id": cid, "response": None,
                            "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
            elif cid in b["_fail"]:
                err.append({"id": rid, "custom_id": cid, "response": {"status_code": 500, "request_id": rid,
                            "body": {"error": {"message": "scripted per-request failure"}}}, "error": None})
            else:
                body = line["body"]
                with self._lock:
                    k = self._count
                    self._count += 1
                    self.received.append(body)
                completion = self._completion(body, Reply(), k)
                out.append({"id": rid, "custom_id": cid, "response": {"status_code": 200, "request_id": rid,
                            "body": completion}, "error": None})
        if out:
            b["output_file_id"] = self._file("".join(json.dumps(x) + "\n" for x in out).encode(), "output.jsonl")["id"]
        if err:
            b["error_file_id"] = self._file("".join(json.dumps(x) + "\n" for x in err).encode(), "errors.jsonl")["id"]
        b["request_counts"] = {"total": len(b["_lines"]), "completed": len(out), "failed": len(err)}
        b["status"] = "expired" if b["_expire"] is not None else "completed"
