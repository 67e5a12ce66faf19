"""The access package: everything HopLuc holds about one survivor, across every agency on her case,
in Vietnamese, as JSON (for machines) and PDF (for her), zipped together.

Built only from the rows of her case (one survivor is one case: cases.Survivor is one-to-one with
Case), never by matching names or phone numbers, which could pull in another person's file.
"""

import hashlib
import io
import json
import zipfile
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.models import Case
from notifications.calendar import VIETNAM


def _when(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "hour"):
        return timezone.localtime(value, VIETNAM).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def _agency_entry(entries: dict, agency) -> dict:
    return entries.setdefault(agency.pk, {
        "co_quan": agency.name, "linh_vuc": agency.get_sector_display(), "tinh": agency.province.name,
        "vai_tro": [], "hanh_dong": [], "dong_y_da_ghi": [], "chuyen_gui": [], "chuyen_nhan": [],
    })


def access_package_data(case: Case) -> dict:
    """The package's content as a dict with Vietnamese keys and labels."""
    with translation.override("vi"):
        survivor = case.survivor
        agencies: dict[int, dict] = {}
        lead = _agency_entry(agencies, case.lead_agency)
        lead["vai_tro"].append(_("Lead agency"))
        for action in case.actions.select_related("agency", "agency__province").order_by("occurred_at", "pk"):
            _agency_entry(agencies, action.agency)["hanh_dong"].append({
                "loai": action.get_type_display(), "thoi_gian": _when(action.occurred_at),
                "nhom_du_lieu": action.get_category_display(), "noi_dung": action.text,
            })
        for consent in case.consents.select_related("recorded_by_agency", "recorded_by_agency__province",
                                                    "receiving_agency").order_by("recorded_at", "pk"):
            _agency_entry(agencies, consent.recorded_by_agency)["dong_y_da_ghi"].append({
                "ben_nhan": consent.receiving_agency.name if consent.receiving_agency_id
                else consent.get_receiving_sector_display(),
                "nhom_chia_se": consent.granted_categories, "nhom_tu_choi": consent.refused_categories,
                "muc_dich": consent.purpose, "nguoi_dong_y": consent.get_given_by_display(),
                "ghi_luc": _when(consent.recorded_at), "rut_lai_luc": _when(consent.withdrawn_at),
                "ly_do_rut": consent.withdrawal_reason,
            })
        for handoff in case.handoffs.select_related("from_agency", "from_agency__province", "to_agency",
                                                    "to_agency__province").order_by("sent_at", "pk"):
            item = {
                "hinh_thuc": handoff.get_kind_display(), "tu": handoff.from_agency.name, "den": handoff.to_agency.name,
                "dich_vu": handoff.services, "trang_thai": handoff.get_status_display(),
                "gui_luc": _when(handoff.sent_at), "loi_nhan": handoff.message, "ket_qua": handoff.outcome,
                "ly_do_tu_choi": handoff.decline_reason, "nhom_chia_se": handoff.categories,
            }
            _agency_entry(agencies, handoff.from_agency)["chuyen_gui"].append(item)
            receiver = _agency_entry(agencies, handoff.to_agency)
            receiver["chuyen_nhan"].append(item)
            if handoff.status in ("accepted", "completed") and _("Receiving agency") not in receiver["vai_tro"]:
                receiver["vai_tro"].append(_("Receiving agency"))
        incidents = [
            {"ngay_xay_ra": _when(i.occurred_on), "ngay_bao_cao": _when(i.reported_on), "tinh": i.province.name,
             "loai": i.get_gbv_type_display(), "quan_he_nguoi_gay_hai": i.get_perpetrator_relationship_display()}
            for i in case.incidents.select_related("province").order_by("pk")
        ]
        opened_by_break_glass = [
            {"nguoi": use.user.get_username(), "luc": _when(use.started_at), "den": _when(use.ends_at),
             "nhom_du_lieu": use.categories, "ly_do": use.reason}
            for use in case.break_glass_uses.select_related("user").order_by("started_at", "pk")
        ]
        requests = [
            {"loai": r.get_kind_display(), "nhan_luc": _when(r.received_at), "trang_thai": r.get_status_display()}
            for r in case.data_subject_requests.order_by("received_at", "pk")
        ]
        return {
            "tieu_de": _("Personal data held about you"),
            "tao_luc": _when(timezone.now()),
            "ho_so": {
                "so_ho_so": case.number, "trang_thai": case.get_status_display(), "tinh": case.province.name,
                "mo_luc": _when(case.created_at), "dong_luc": _when(case.closed_at),
                "muc_do_rui_ro": case.get_risk_level_display(),
                "dong_y_thong_ke": case.statistics_consent,
            },
            "nguoi_bi_hai": {
                "ma_an_danh": survivor.pseudonym, "ho_ten": survivor.full_name, "dien_thoai": survivor.phone,
                "dia_chi": survivor.address, "nguoi_giam_ho": survivor.guardian_name,
                "dien_thoai_nguoi_giam_ho": survivor.guardian_phone, "gioi_tinh": survivor.get_sex_display(),
                "nam_sinh": survivor.birth_year, "khuyet_tat": survivor.get_disability_display(),
                "dan_toc": survivor.ethnicity,
            },
            "vu_viec": incidents,
            "co_quan": list(agencies.values()),
            "mo_khan_cap": opened_by_break_glass,
            "yeu_cau_ve_du_lieu": requests,
        }


def _pdf(data: dict) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from reports.pdf import pdf_fonts

    regular, bold = pdf_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=12, leading=16, spaceBefore=6)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=20)
    story = [Paragraph(escape(data["tieu_de"]), title), Paragraph(escape(data["tao_luc"]), body), Spacer(1, 4 * mm)]

    def add(value, indent: int = 0) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, (dict, list)):
                    story.append(Paragraph(escape(_label(key)), ParagraphStyle("k", parent=body, fontName=bold,
                                                                                leftIndent=indent)))
                    add(item, indent + 10)
                else:
                    text = f"{_label(key)}: {'' if item is None else item}"
                    story.append(Paragraph(escape(text), ParagraphStyle("v", parent=body, leftIndent=indent)))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, (dict, list)):
                    add(item, indent)
                    story.append(Spacer(1, 2 * mm))
                else:
                    story.append(Paragraph(escape(f"• {item}"), ParagraphStyle("l", parent=body, leftIndent=indent)))

    for key in ("ho_so", "nguoi_bi_hai", "vu_viec", "co_quan", "mo_khan_cap", "yeu_cau_ve_du_lieu"):
        story.append(Paragraph(escape(_label(key)), heading))
        add(data[key])
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=data["tieu_de"]).build(story)
    return buffer.getvalue()


# Vietnamese headings of the PDF, by JSON key.
_LABELS = {
    "ho_so": "Hồ sơ", "nguoi_bi_hai": "Thông tin về bạn", "vu_viec": "Vụ việc", "co_quan": "Các cơ quan giữ dữ liệu",
    "mo_khan_cap": "Mở hồ sơ khẩn cấp", "yeu_cau_ve_du_lieu": "Yêu cầu về dữ liệu cá nhân",
    "so_ho_so": "Số hồ sơ", "trang_thai": "Trạng thái", "tinh": "Tỉnh/thành phố", "mo_luc": "Mở lúc",
    "dong_luc": "Đóng lúc", "muc_do_rui_ro": "Mức độ rủi ro", "dong_y_thong_ke": "Đồng ý thống kê ẩn danh",
    "ma_an_danh": "Mã ẩn danh", "ho_ten": "Họ tên", "dien_thoai": "Điện thoại", "dia_chi": "Địa chỉ",
    "nguoi_giam_ho": "Cha mẹ hoặc người giám hộ", "dien_thoai_nguoi_giam_ho": "Điện thoại người giám hộ",
    "gioi_tinh": "Giới tính", "nam_sinh": "Năm sinh", "khuyet_tat": "Khuyết tật", "dan_toc": "Dân tộc",
    "ngay_xay_ra": "Ngày xảy ra", "ngay_bao_cao": "Ngày báo cáo", "loai": "Loại",
    "quan_he_nguoi_gay_hai": "Quan hệ với người gây hại",
    "linh_vuc": "Lĩnh vực", "vai_tro": "Vai trò", "hanh_dong": "Hoạt động đã ghi", "dong_y_da_ghi": "Sự đồng ý đã ghi",
    "chuyen_gui": "Chuyển gửi đi", "chuyen_nhan": "Chuyển đến", "thoi_gian": "Thời gian",
    "nhom_du_lieu": "Nhóm dữ liệu", "noi_dung": "Nội dung", "ben_nhan": "Bên nhận", "nhom_chia_se": "Nhóm chia sẻ",
    "nhom_tu_choi": "Nhóm từ chối", "muc_dich": "Mục đích", "nguoi_dong_y": "Người đồng ý", "ghi_luc": "Ghi lúc",
    "rut_lai_luc": "Rút lại lúc", "ly_do_rut": "Lý do rút lại", "hinh_thuc": "Hình thức", "tu": "Từ", "den": "Đến",
    "dich_vu": "Dịch vụ", "gui_luc": "Gửi lúc", "loi_nhan": "Lời nhắn", "ket_qua": "Kết quả",
    "ly_do_tu_choi": "Lý do từ chối", "nguoi": "Người", "luc": "Lúc", "ly_do": "Lý do", "nhan_luc": "Nhận lúc",
}


def _label(key: str) -> str:
    return _LABELS.get(key, key)


def access_package_archive(case: Case) -> tuple[bytes, str]:
    """The zip (du-lieu-ca-nhan.json, du-lieu-ca-nhan.pdf) and its SHA-256."""
    data = access_package_data(case)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("du-lieu-ca-nhan.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("du-lieu-ca-nhan.pdf", _pdf(data))
    content = buffer.getvalue()
    return content, hashlib.sha256(content).hexdigest()
