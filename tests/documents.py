"""Minimal Word and PDF documents built in memory, for the tests and the soak run."""

from __future__ import annotations

import io
import zipfile
import zlib


def docx_bytes(document_xml: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal Word document around ``document_xml`` (the body's XML)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>'))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        zf.writestr("word/document.xml", document_xml)
    return out.getvalue()


def docx_body(inner: bytes) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w='
            b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + inner + b"</w:body></w:document>")


def docx_paragraph(text: str) -> bytes:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()


def pdf_bytes(pages: list[bytes], compress: bool = True) -> bytes:
    """A PDF whose pages draw the given content streams with Helvetica."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, content in enumerate(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
                       .encode())
        stream = zlib.compress(content, 9) if compress else content
        flate = b"/Filter /FlateDecode " if compress else b""
        objects.append(b"<< " + flate + f"/Length {len(stream)} >>\nstream\n".encode()
                       + stream + b"\nendstream")
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first the catalog),
    with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


def pdf_text(lines: list[str]) -> bytes:
    """A content stream that prints ASCII ``lines`` down a page."""
    ops = [b"BT /F1 10 Tf 14 TL 50 800 Td"]
    ops += [b"(" + line.encode("latin-1") + b") Tj T*" for line in lines]
    return b"\n".join(ops + [b"ET"])


def pdf_form_bomb(levels: int = 8, fanout: int = 10, leaf: bytes = b"0 0 m 10 10 l S") -> bytes:
    """A one-page PDF of ``levels`` nested form XObjects, each drawing the next
    ``fanout`` times: a few KB that ask for ``fanout ** levels`` draws of ``leaf``."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                            b"/Resources << /XObject << /X 5 0 R >> >> /Contents 4 0 R >>"]
    draw_next = b" ".join([b"/X Do"] * fanout)

    def stream(head: bytes, content: bytes) -> bytes:
        return head + f" /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"

    objects.append(stream(b"<<", draw_next))  # 4: the page draws form 5 fanout times
    for level in range(levels):
        number = 5 + level
        last = level == levels - 1
        resources = b"" if last else f"/Resources << /XObject << /X {number + 1} 0 R >> >>".encode()
        objects.append(stream(b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] " + resources,
                              leaf if last else draw_next))
    return pdf_file(objects)
