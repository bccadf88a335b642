"""The closed vocabularies of the domain (DOMAIN.md §6.2, §8)."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    IMMIGRATION_ENFORCEMENT = "immigration_enforcement"
    POLICE = "police"
    SHERIFF = "sheriff"
    CORRECTIONS = "corrections"
    PROBATION = "probation"
    COURTS = "courts"
    PROSECUTOR = "prosecutor"
    DMV = "dmv"
    FEDERAL_OTHER = "federal_other"
    FOREIGN_GOVERNMENT = "foreign_government"
    OTHER = "other"


class Action(StrEnum):
    """The separate things a detainer can ask for; laws treat each differently (DOMAIN.md §8.1)."""

    HOLD_PAST_RELEASE = "hold_past_release"
    NOTIFY_RELEASE = "notify_release"
    TRANSFER_AT_RELEASE = "transfer_at_release"
    ALLOW_INTERVIEW = "allow_interview"
    SHARE_INFO = "share_info"
    SERVE_COPY_ON_SUBJECT = "serve_copy_on_subject"


class Outcome(StrEnum):
    REQUIRE = "require"
    ALLOW = "allow"
    DENY = "deny"
    INSUFFICIENT_FACTS = "insufficient_facts"


class DetainerForm(StrEnum):
    """ICE detainer forms (DOMAIN.md §6.2). I-247A is the only one issued since 2 Apr 2017."""

    I_247A = "I-247A"
    I_247 = "I-247"  # legacy, pre-2015
    I_247D = "I-247D"  # request for voluntary action (hold), 2015-2017
    I_247N = "I-247N"  # request for voluntary notification only, 2015-2017
    I_247X = "I-247X"  # request for voluntary transfer, 2015-2017


class IssuingComponent(StrEnum):
    ICE = "ICE"
    CBP = "CBP"
    OTHER = "other"


class ProbableCauseBasis(StrEnum):
    """I-247A box 1 probable-cause checkboxes (a)-(d) (DOMAIN.md §6.2, F3)."""

    FINAL_ORDER_OF_REMOVAL = "final_order_of_removal"
    PENDING_REMOVAL_PROCEEDINGS = "pending_removal_proceedings"
    BIOMETRIC_AND_RECORDS_CHECK = "biometric_and_records_check"
    STATEMENTS_OR_OTHER_EVIDENCE = "statements_or_other_evidence"


class PriorityBasis(StrEnum):
    """I-247D/I-247N section 1A priority bases (DOMAIN.md §6.2, F6)."""

    TERRORISM_OR_ESPIONAGE = "terrorism_or_espionage"
    GANG = "gang"
    FELONY = "felony"
    AGGRAVATED_FELONY = "aggravated_felony"
    SIGNIFICANT_MISDEMEANOR = "significant_misdemeanor"
    THREE_OR_MORE_MISDEMEANORS = "three_or_more_misdemeanors"


class AdministrativeWarrantForm(StrEnum):
    I_200 = "I-200"  # Warrant for Arrest of Alien (signed by an immigration officer, not a judge)
    I_205 = "I-205"  # Warrant of Removal/Deportation


class JudgeKind(StrEnum):
    ARTICLE_III = "article_iii"  # federal district / circuit judge
    FEDERAL_MAGISTRATE = "federal_magistrate"
    STATE = "state"
    IMMIGRATION_JUDGE = "immigration_judge"  # an executive-branch officer, not a judge under Art. III
    NONE = "none"


class WarrantBasis(StrEnum):
    FEDERAL_CRIMINAL_IMMIGRATION = "federal_criminal_immigration"  # e.g. 8 USC 1326
    FEDERAL_CRIMINAL_OTHER = "federal_criminal_other"
    STATE_CRIMINAL = "state_criminal"
    CIVIL = "civil"


class OffenseLevel(StrEnum):
    FELONY = "felony"
    MISDEMEANOR = "misdemeanor"
    VIOLATION = "violation"
    INFRACTION = "infraction"


class Disposition(StrEnum):
    CONVICTION = "conviction"
    YOUTHFUL_OFFENDER = "youthful_offender"  # NY CPL art. 720; not a conviction
    JUVENILE_DELINQUENT = "juvenile_delinquent"  # NY FCA §301.2
    DISMISSED = "dismissed"
    PENDING = "pending"


class SentenceType(StrEnum):
    NONE = "none"
    FINE = "fine"
    PROBATION = "probation"
    JAIL = "jail"
    STATE_PRISON = "state_prison"
    FEDERAL_PRISON = "federal_prison"


class ReductionKind(StrEnum):
    PROP_47 = "prop_47"  # California 2014: certain felonies/wobblers now misdemeanors
    PC_17B = "pc_17b"  # California wobbler reduced to misdemeanor
    VACATED = "vacated"
    SEALED = "sealed"


class OffenseCategory(StrEnum):
    """Descriptive categories used in published figures (DOMAIN.md §10); multi-valued per person."""

    ASSAULT = "assault"
    DUI = "dui"
    SEX_CRIME = "sex_crime"
    WEAPONS = "weapons"
    ROBBERY = "robbery"
    HOMICIDE = "homicide"
    DRUGS = "drugs"
    THEFT = "theft"
    OTHER = "other"


class ReleaseReason(StrEnum):
    BAIL_POSTED = "bail_posted"
    RELEASED_ON_RECOGNIZANCE = "released_on_recognizance"
    CHARGES_DISMISSED = "charges_dismissed"
    SENTENCE_SERVED = "sentence_served"
    ACQUITTED = "acquitted"
    TRANSFERRED_TO_IMMIGRATION = "transferred_to_immigration"
    TRANSFERRED_OTHER = "transferred_other"


class StatusProofKind(StrEnum):
    """Proof of citizenship or lawful status offered by the person (Tex. CCP art. 2.251(b))."""

    US_PASSPORT = "us_passport"
    BIRTH_CERTIFICATE = "birth_certificate"
    NATURALIZATION_CERTIFICATE = "naturalization_certificate"
    PERMANENT_RESIDENT_CARD = "permanent_resident_card"
    STATE_DRIVER_LICENSE = "state_driver_license"
    OTHER_GOVERNMENT_ID = "other_government_id"


class RecordKind(StrEnum):
    DMV_STANDARD_LICENSE = "dmv_standard_license"
    DMV_REAL_ID = "dmv_real_id"
    DMV_ENHANCED = "dmv_enhanced"
    DMV_COMMERCIAL = "dmv_commercial"
    DMV_NON_DRIVER_ID = "dmv_non_driver_id"
    DMV_PHOTO = "dmv_photo"
    DMV_ORIGINAL_DOCUMENTS = "dmv_original_documents"
    DMV_FEDERAL_STANDARD_FLAG = "dmv_federal_standard_flag"
    CUSTODY_RECORD = "custody_record"


class RecordAction(StrEnum):
    READ = "read"
    BULK_READ = "bulk_read"
    PHOTO_MATCH = "photo_match"


class RequestPurpose(StrEnum):
    CRIMINAL_INVESTIGATION = "criminal_investigation"
    CIVIL_IMMIGRATION_ENFORCEMENT = "civil_immigration_enforcement"
    CRIMINAL_IMMIGRATION_ENFORCEMENT = "criminal_immigration_enforcement"
    TRUSTED_TRAVELER_VETTING = "trusted_traveler_vetting"
    VEHICLE_IMPORT_EXPORT = "vehicle_import_export"
    FEDERAL_STANDARD_LICENSE_ISSUANCE = "federal_standard_license_issuance"
    TRAFFIC_SAFETY = "traffic_safety"
    NATIONAL_DRIVER_REGISTER = "national_driver_register"
    SUBJECT_ACCESS = "subject_access"
    OTHER = "other"


class LegalProcessKind(StrEnum):
    COURT_ORDER = "court_order"
    JUDICIAL_WARRANT = "judicial_warrant"
    SUBPOENA = "subpoena"
    GRAND_JURY_SUBPOENA = "grand_jury_subpoena"
    TRIAL_SUBPOENA = "trial_subpoena"
    ADMINISTRATIVE_SUBPOENA = "administrative_subpoena"


class NoticeKind(StrEnum):
    SUBJECT_RECORD_REQUEST = "subject_record_request"  # NY VTL §201(12)(a): tell the person within 3 days
    SUBJECT_DETAINER_COPY = "subject_detainer_copy"  # CA §7283.1(b); I-247A service
    SUBJECT_RELEASE_NOTIFICATION = "subject_release_notification"  # CA §7283.1(b) "promptly"
    SUBJECT_HELD_ON_DETAINER = "subject_held_on_detainer"  # Tex. CCP art. 2.251(a)(2)
    INTERVIEW_CONSENT_FORM = "interview_consent_form"  # CA §7283.1(a)
    RELEASE_NOTIFICATION_TO_AGENCY = "release_notification_to_agency"  # telling ICE of release
    HOLD_EXPIRY = "hold_expiry"  # the 48-hour limit
    REQUESTER_IDENTITY_LOG = "requester_identity_log"


class Recipient(StrEnum):
    SUBJECT = "subject"
    SUBJECT_ATTORNEY_OR_DESIGNEE = "subject_attorney_or_designee"
    REQUESTING_AGENCY = "requesting_agency"
    CUSTODIAN = "custodian"
    OVERSIGHT_BODY = "oversight_body"
