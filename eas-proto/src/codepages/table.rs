//! The table itself: MS-ASWBXML 2.1.2.1.1 to 2.1.2.1.26, protocol 16.1.
//!
//! Transcribed from MS-ASWBXML revision 24.0 (2025-05-20); its change log
//! lists no table changes since revision 23.0 (2022-04-29), which was read
//! alongside as a check. Every row is written as the spec writes it: the tag
//! name with the spec's spelling, the token, and the "Protocol versions"
//! column as one expression:
//!
//! - `ALL` where the column says "All" (2.5 to 16.1);
//! - `since(V)` where it lists `V` and every later version up to 16.1;
//! - `only(&[..])` for any other set (tags that exist only in 2.5, or that
//!   16.0 dropped).
//!
//! Tokens the spec leaves out of a page (gaps such as AirSync 0x11 or
//! Calendar 0x10) are absent here too; a decoder meeting one has met an
//! unknown tag.
//!
//! Surprises worth knowing:
//!
//! - Page 3 (AirNotify) lists no tags: "WBXML code page 3 is no longer in
//!   use" (2.1.2.1.4).
//! - Page 16 is written `GAL`, the namespace MS-ASCMD uses throughout
//!   (2.2.4 prefix table, the GAL.xsd `targetNamespace`, `xmlns:gal="GAL"` in
//!   its schemas). MS-ASWBXML's own list in 2.1.2.1 writes "Gal" while its
//!   section title writes "GAL"; `page_by_namespace` ignores case, so both
//!   are accepted.
//! - Email 0x09 is spelled `Att0id` (digit zero) in the spec's table, in
//!   both revisions read. The 2.5-era element is usually written `AttOid`
//!   (letter O); the spec's spelling is kept, see the comment on that row.
//! - Find 0x19 is `GalSearchCriterion` in MS-ASWBXML but `GALSearchCriterion`
//!   in MS-ASCMD 2.2.3.82; the MS-ASWBXML spelling is kept.
//! - Find has no 0x0F, 0x10 or 0x1A..=0x1F: the spec jumps from 0x19 to
//!   `MaxPictures = 0x20`.
//! - `Opaque` marks the elements whose content a spec defines as a byte
//!   array ([MS-ASDTYPE] 2.7.1: "Elements with a byte array structure MUST
//!   be encoded and transmitted as [WBXML1.2] opaque data") or says outright
//!   is sent as an opaque BLOB. Everything else with text content goes as
//!   an inline string ([MS-ASDTYPE] 2.7: strings "MUST be encoded and
//!   transmitted as [WBXML1.2] inline strings"). Rows considered and left
//!   as text say why in a comment.

use super::{ContentKind, PageDef, TagDef};

code_pages! {
    /// Code page 0: AirSync (MS-ASWBXML 2.1.2.1.1).
    0 => AirSync, airsync {
        Sync = 0x05, ALL;
        Responses = 0x06, ALL;
        Add = 0x07, ALL;
        Change = 0x08, ALL;
        Delete = 0x09, ALL;
        Fetch = 0x0A, ALL;
        SyncKey = 0x0B, ALL;
        ClientId = 0x0C, ALL;
        ServerId = 0x0D, ALL;
        Status = 0x0E, ALL;
        Collection = 0x0F, ALL;
        Class = 0x10, ALL;
        CollectionId = 0x12, ALL;
        GetChanges = 0x13, ALL;
        MoreAvailable = 0x14, ALL;
        WindowSize = 0x15, ALL;
        Commands = 0x16, ALL;
        Options = 0x17, ALL;
        FilterType = 0x18, ALL;
        Truncation = 0x19, only(&[V2_5]);
        Conflict = 0x1B, ALL;
        Collections = 0x1C, ALL;
        ApplicationData = 0x1D, ALL;
        DeletesAsMoves = 0x1E, ALL;
        Supported = 0x20, ALL;
        SoftDelete = 0x21, ALL;
        MIMESupport = 0x22, ALL;
        MIMETruncation = 0x23, ALL;
        Wait = 0x24, since(V12_1);
        Limit = 0x25, since(V12_1);
        Partial = 0x26, since(V12_1);
        ConversationMode = 0x27, since(V14_0);
        MaxItems = 0x28, since(V14_0);
        HeartbeatInterval = 0x29, since(V14_0);
    }

    /// Code page 1: Contacts (MS-ASWBXML 2.1.2.1.2).
    1 => Contacts, contacts {
        Anniversary = 0x05, ALL;
        AssistantName = 0x06, ALL;
        AssistantPhoneNumber = 0x07, ALL;
        Birthday = 0x08, ALL;
        // Note 1 of the spec's table: from 12.0 on, airsyncbase:Body (page 17)
        // is used instead.
        Body = 0x09, only(&[V2_5]);
        BodySize = 0x0A, only(&[V2_5]);
        BodyTruncated = 0x0B, only(&[V2_5]);
        Business2PhoneNumber = 0x0C, ALL;
        BusinessAddressCity = 0x0D, ALL;
        BusinessAddressCountry = 0x0E, ALL;
        BusinessAddressPostalCode = 0x0F, ALL;
        BusinessAddressState = 0x10, ALL;
        BusinessAddressStreet = 0x11, ALL;
        BusinessFaxNumber = 0x12, ALL;
        BusinessPhoneNumber = 0x13, ALL;
        CarPhoneNumber = 0x14, ALL;
        Categories = 0x15, ALL;
        Category = 0x16, ALL;
        Children = 0x17, ALL;
        Child = 0x18, ALL;
        CompanyName = 0x19, ALL;
        Department = 0x1A, ALL;
        Email1Address = 0x1B, ALL;
        Email2Address = 0x1C, ALL;
        Email3Address = 0x1D, ALL;
        FileAs = 0x1E, ALL;
        FirstName = 0x1F, ALL;
        Home2PhoneNumber = 0x20, ALL;
        HomeAddressCity = 0x21, ALL;
        HomeAddressCountry = 0x22, ALL;
        HomeAddressPostalCode = 0x23, ALL;
        HomeAddressState = 0x24, ALL;
        HomeAddressStreet = 0x25, ALL;
        HomeFaxNumber = 0x26, ALL;
        HomePhoneNumber = 0x27, ALL;
        JobTitle = 0x28, ALL;
        LastName = 0x29, ALL;
        MiddleName = 0x2A, ALL;
        MobilePhoneNumber = 0x2B, ALL;
        OfficeLocation = 0x2C, ALL;
        OtherAddressCity = 0x2D, ALL;
        OtherAddressCountry = 0x2E, ALL;
        OtherAddressPostalCode = 0x2F, ALL;
        OtherAddressState = 0x30, ALL;
        OtherAddressStreet = 0x31, ALL;
        PagerNumber = 0x32, ALL;
        RadioPhoneNumber = 0x33, ALL;
        Spouse = 0x34, ALL;
        Suffix = 0x35, ALL;
        Title = 0x36, ALL;
        WebPage = 0x37, ALL;
        YomiCompanyName = 0x38, ALL;
        YomiFirstName = 0x39, ALL;
        YomiLastName = 0x3A, ALL;
        // A base64 string ([MS-ASCNTC] 2.2.2.58: "a string data type"), so
        // inline, not opaque.
        Picture = 0x3C, ALL;
        Alias = 0x3D, since(V14_0);
        WeightedRank = 0x3E, since(V14_0);
    }

    /// Code page 2: Email (MS-ASWBXML 2.1.2.1.3).
    2 => Email, email {
        Attachment = 0x05, only(&[V2_5]);
        // Note 1: from 12.0 on, airsyncbase:Attachments (page 17) is used
        // instead.
        Attachments = 0x06, only(&[V2_5]);
        AttName = 0x07, only(&[V2_5]);
        AttSize = 0x08, only(&[V2_5]);
        // Spelled with a digit zero in the spec's table (revisions 23.0 and
        // 24.0 alike); peer tables write it with a letter O (`AttOid`,
        // `AttOId`). Kept as the spec spells it; an XML reader that wants to
        // accept `AttOid` has to alias it.
        Att0id = 0x09, only(&[V2_5]);
        AttMethod = 0x0A, only(&[V2_5]);
        // Note 2: from 12.0 on, airsyncbase:Body (page 17) is used instead.
        Body = 0x0C, only(&[V2_5]);
        BodySize = 0x0D, only(&[V2_5]);
        BodyTruncated = 0x0E, only(&[V2_5]);
        DateReceived = 0x0F, ALL;
        DisplayName = 0x10, only(&[V2_5]);
        DisplayTo = 0x11, ALL;
        Importance = 0x12, ALL;
        MessageClass = 0x13, ALL;
        Subject = 0x14, ALL;
        Read = 0x15, ALL;
        To = 0x16, ALL;
        Cc = 0x17, ALL;
        From = 0x18, ALL;
        ReplyTo = 0x19, ALL;
        AllDayEvent = 0x1A, ALL;
        Categories = 0x1B, since(V14_0);
        Category = 0x1C, since(V14_0);
        DtStamp = 0x1D, ALL;
        EndTime = 0x1E, ALL;
        InstanceType = 0x1F, ALL;
        BusyStatus = 0x20, ALL;
        // Note 3: in 16.0 and 16.1, airsyncbase:Location (page 17) is used
        // instead.
        Location = 0x21, only(&[V2_5, V12_0, V12_1, V14_0, V14_1]);
        MeetingRequest = 0x22, ALL;
        Organizer = 0x23, ALL;
        RecurrenceId = 0x24, ALL;
        Reminder = 0x25, ALL;
        ResponseRequested = 0x26, ALL;
        Recurrences = 0x27, ALL;
        Recurrence = 0x28, ALL;
        Type = 0x29, ALL;
        Until = 0x2A, ALL;
        Occurrences = 0x2B, ALL;
        Interval = 0x2C, ALL;
        DayOfWeek = 0x2D, ALL;
        DayOfMonth = 0x2E, ALL;
        WeekOfMonth = 0x2F, ALL;
        MonthOfYear = 0x30, ALL;
        StartTime = 0x31, ALL;
        Sensitivity = 0x32, ALL;
        // Written `TimeZone` here but `Timezone` on page 4, as the spec does.
        TimeZone = 0x33, ALL;
        // Note 4: in 16.0 and 16.1, calendar:UID (page 4) is used instead.
        GlobalObjId = 0x34, only(&[V2_5, V12_0, V12_1, V14_0, V14_1]);
        ThreadTopic = 0x35, ALL;
        MIMEData = 0x36, only(&[V2_5]);
        MIMETruncated = 0x37, only(&[V2_5]);
        MIMESize = 0x38, only(&[V2_5]);
        InternetCPID = 0x39, ALL;
        Flag = 0x3A, since(V12_0);
        // The flag status (child of Flag); libwbxml calls it `FlagStatus`,
        // the spec calls it `Status`.
        Status = 0x3B, since(V12_0);
        ContentClass = 0x3C, since(V12_0);
        FlagType = 0x3D, since(V12_0);
        CompleteTime = 0x3E, since(V12_0);
        DisallowNewTimeProposal = 0x3F, since(V14_0);
    }

    /// Code page 3: AirNotify (MS-ASWBXML 2.1.2.1.4): "WBXML code page 3 is
    /// no longer in use", and the spec lists no tags for it.
    3 => AirNotify, airnotify {}

    /// Code page 4: Calendar (MS-ASWBXML 2.1.2.1.5).
    4 => Calendar, calendar {
        // Written `Timezone` here but `TimeZone` on page 2, as the spec does.
        Timezone = 0x05, ALL;
        AllDayEvent = 0x06, ALL;
        Attendees = 0x07, ALL;
        Attendee = 0x08, ALL;
        Email = 0x09, ALL;
        Name = 0x0A, ALL;
        // Note 1: from 12.0 on, airsyncbase:Body (page 17) is used instead.
        Body = 0x0B, only(&[V2_5]);
        BodyTruncated = 0x0C, only(&[V2_5]);
        BusyStatus = 0x0D, ALL;
        Categories = 0x0E, ALL;
        Category = 0x0F, ALL;
        DtStamp = 0x11, ALL;
        EndTime = 0x12, ALL;
        Exception = 0x13, ALL;
        Exceptions = 0x14, ALL;
        Deleted = 0x15, ALL;
        ExceptionStartTime = 0x16, only(&[V2_5, V12_0, V12_1, V14_0, V14_1]);
        // Note 2: in 16.0 and 16.1, airsyncbase:Location (page 17) is used
        // instead.
        Location = 0x17, only(&[V2_5, V12_0, V12_1, V14_0, V14_1]);
        MeetingStatus = 0x18, ALL;
        OrganizerEmail = 0x19, ALL;
        OrganizerName = 0x1A, ALL;
        Recurrence = 0x1B, ALL;
        Type = 0x1C, ALL;
        Until = 0x1D, ALL;
        Occurrences = 0x1E, ALL;
        Interval = 0x1F, ALL;
        DayOfWeek = 0x20, ALL;
        DayOfMonth = 0x21, ALL;
        WeekOfMonth = 0x22, ALL;
        MonthOfYear = 0x23, ALL;
        Reminder = 0x24, ALL;
        Sensitivity = 0x25, ALL;
        Subject = 0x26, ALL;
        StartTime = 0x27, ALL;
        UID = 0x28, ALL;
        AttendeeStatus = 0x29, since(V12_0);
        AttendeeType = 0x2A, since(V12_0);
        DisallowNewTimeProposal = 0x33, since(V14_0);
        ResponseRequested = 0x34, since(V14_0);
        AppointmentReplyTime = 0x35, since(V14_0);
        ResponseType = 0x36, since(V14_0);
        CalendarType = 0x37, since(V14_0);
        IsLeapMonth = 0x38, since(V14_0);
        FirstDayOfWeek = 0x39, since(V14_1);
        OnlineMeetingConfLink = 0x3A, since(V14_1);
        OnlineMeetingExternalLink = 0x3B, since(V14_1);
        ClientUid = 0x3C, since(V16_0);
    }

    /// Code page 5: Move (MS-ASWBXML 2.1.2.1.6).
    5 => Move, moveitems {
        MoveItems = 0x05, ALL;
        Move = 0x06, ALL;
        SrcMsgId = 0x07, ALL;
        SrcFldId = 0x08, ALL;
        DstFldId = 0x09, ALL;
        Response = 0x0A, ALL;
        Status = 0x0B, ALL;
        DstMsgId = 0x0C, ALL;
    }

    /// Code page 6: GetItemEstimate (MS-ASWBXML 2.1.2.1.7).
    6 => GetItemEstimate, getitemestimate {
        GetItemEstimate = 0x05, ALL;
        Collections = 0x07, ALL;
        Collection = 0x08, ALL;
        // Note 1: in 14.0 and later, airsync:Class (page 0) is used instead.
        Class = 0x09, only(&[V2_5, V12_0, V12_1]);
        CollectionId = 0x0A, ALL;
        Estimate = 0x0C, ALL;
        Response = 0x0D, ALL;
        Status = 0x0E, ALL;
    }

    /// Code page 7: FolderHierarchy (MS-ASWBXML 2.1.2.1.8).
    7 => FolderHierarchy, folderhierarchy {
        Folders = 0x05, only(&[V2_5, V12_0, V12_1]);
        Folder = 0x06, only(&[V2_5, V12_0, V12_1]);
        DisplayName = 0x07, ALL;
        ServerId = 0x08, ALL;
        ParentId = 0x09, ALL;
        Type = 0x0A, ALL;
        Status = 0x0C, ALL;
        Changes = 0x0E, ALL;
        Add = 0x0F, ALL;
        Delete = 0x10, ALL;
        Update = 0x11, ALL;
        SyncKey = 0x12, ALL;
        FolderCreate = 0x13, ALL;
        FolderDelete = 0x14, ALL;
        FolderUpdate = 0x15, ALL;
        FolderSync = 0x16, ALL;
        Count = 0x17, ALL;
    }

    /// Code page 8: MeetingResponse (MS-ASWBXML 2.1.2.1.9).
    8 => MeetingResponse, meetingresponse {
        CalendarId = 0x05, ALL;
        CollectionId = 0x06, ALL;
        MeetingResponse = 0x07, ALL;
        RequestId = 0x08, ALL;
        Request = 0x09, ALL;
        Result = 0x0A, ALL;
        Status = 0x0B, ALL;
        UserResponse = 0x0C, ALL;
        InstanceId = 0x0E, since(V14_1);
        ProposedStartTime = 0x10, since(V16_1);
        ProposedEndTime = 0x11, since(V16_1);
        SendResponse = 0x12, since(V16_0);
    }

    /// Code page 9: Tasks (MS-ASWBXML 2.1.2.1.10).
    9 => Tasks, tasks {
        // Note 1: from 12.0 on, airsyncbase:Body (page 17) is used instead.
        Body = 0x05, only(&[V2_5]);
        BodySize = 0x06, only(&[V2_5]);
        BodyTruncated = 0x07, only(&[V2_5]);
        Categories = 0x08, ALL;
        Category = 0x09, ALL;
        Complete = 0x0A, ALL;
        DateCompleted = 0x0B, ALL;
        DueDate = 0x0C, ALL;
        UtcDueDate = 0x0D, ALL;
        Importance = 0x0E, ALL;
        Recurrence = 0x0F, ALL;
        Type = 0x10, ALL;
        Start = 0x11, ALL;
        Until = 0x12, ALL;
        Occurrences = 0x13, ALL;
        Interval = 0x14, ALL;
        DayOfMonth = 0x15, ALL;
        DayOfWeek = 0x16, ALL;
        WeekOfMonth = 0x17, ALL;
        MonthOfYear = 0x18, ALL;
        Regenerate = 0x19, ALL;
        DeadOccur = 0x1A, ALL;
        ReminderSet = 0x1B, ALL;
        ReminderTime = 0x1C, ALL;
        Sensitivity = 0x1D, ALL;
        StartDate = 0x1E, ALL;
        UtcStartDate = 0x1F, ALL;
        Subject = 0x20, ALL;
        OrdinalDate = 0x22, since(V12_0);
        SubOrdinalDate = 0x23, since(V12_0);
        CalendarType = 0x24, since(V14_0);
        IsLeapMonth = 0x25, since(V14_0);
        FirstDayOfWeek = 0x26, since(V14_1);
    }

    /// Code page 10: ResolveRecipients (MS-ASWBXML 2.1.2.1.11).
    10 => ResolveRecipients, resolverecipients {
        ResolveRecipients = 0x05, ALL;
        Response = 0x06, ALL;
        Status = 0x07, ALL;
        Type = 0x08, ALL;
        Recipient = 0x09, ALL;
        DisplayName = 0x0A, ALL;
        EmailAddress = 0x0B, ALL;
        Certificates = 0x0C, ALL;
        // Certificate and MiniCertificate carry base64-encoded certificate
        // BLOBs as text, so they are inline strings, not opaque.
        Certificate = 0x0D, ALL;
        MiniCertificate = 0x0E, ALL;
        Options = 0x0F, ALL;
        To = 0x10, ALL;
        CertificateRetrieval = 0x11, ALL;
        RecipientCount = 0x12, ALL;
        MaxCertificates = 0x13, ALL;
        MaxAmbiguousRecipients = 0x14, ALL;
        CertificateCount = 0x15, ALL;
        Availability = 0x16, since(V14_0);
        StartTime = 0x17, since(V14_0);
        EndTime = 0x18, since(V14_0);
        MergedFreeBusy = 0x19, since(V14_0);
        Picture = 0x1A, since(V14_1);
        MaxSize = 0x1B, since(V14_1);
        // MS-ASCMD 2.2.3.39.3 Data (ResolveRecipients): data type "Byte
        // array", which [MS-ASDTYPE] 2.7.1 says MUST be sent as opaque data.
        Data = 0x1C, since(V14_1), Opaque;
        MaxPictures = 0x1D, since(V14_1);
    }

    /// Code page 11: ValidateCert (MS-ASWBXML 2.1.2.1.12).
    11 => ValidateCert, validatecert {
        ValidateCert = 0x05, ALL;
        Certificates = 0x06, ALL;
        Certificate = 0x07, ALL;
        CertificateChain = 0x08, ALL;
        CheckCRL = 0x09, ALL;
        Status = 0x0A, ALL;
    }

    /// Code page 12: Contacts2 (MS-ASWBXML 2.1.2.1.13).
    12 => Contacts2, contacts2 {
        CustomerId = 0x05, ALL;
        GovernmentId = 0x06, ALL;
        IMAddress = 0x07, ALL;
        IMAddress2 = 0x08, ALL;
        IMAddress3 = 0x09, ALL;
        ManagerName = 0x0A, ALL;
        CompanyMainPhone = 0x0B, ALL;
        AccountName = 0x0C, ALL;
        NickName = 0x0D, ALL;
        MMS = 0x0E, ALL;
    }

    /// Code page 13: Ping (MS-ASWBXML 2.1.2.1.14).
    13 => Ping, ping {
        Ping = 0x05, ALL;
        Status = 0x07, ALL;
        HeartbeatInterval = 0x08, ALL;
        Folders = 0x09, ALL;
        Folder = 0x0A, ALL;
        Id = 0x0B, ALL;
        Class = 0x0C, ALL;
        MaxFolders = 0x0D, ALL;
    }

    /// Code page 14: Provision (MS-ASWBXML 2.1.2.1.15).
    14 => Provision, provision {
        Provision = 0x05, ALL;
        Policies = 0x06, ALL;
        Policy = 0x07, ALL;
        PolicyType = 0x08, ALL;
        PolicyKey = 0x09, ALL;
        Data = 0x0A, ALL;
        Status = 0x0B, ALL;
        RemoteWipe = 0x0C, ALL;
        EASProvisionDoc = 0x0D, since(V12_0);
        DevicePasswordEnabled = 0x0E, since(V12_0);
        AlphanumericDevicePasswordRequired = 0x0F, since(V12_0);
        RequireStorageCardEncryption = 0x10, since(V12_1);
        PasswordRecoveryEnabled = 0x11, since(V12_0);
        AttachmentsEnabled = 0x13, since(V12_0);
        MinDevicePasswordLength = 0x14, since(V12_0);
        MaxInactivityTimeDeviceLock = 0x15, since(V12_0);
        MaxDevicePasswordFailedAttempts = 0x16, since(V12_0);
        MaxAttachmentSize = 0x17, since(V12_0);
        AllowSimpleDevicePassword = 0x18, since(V12_0);
        DevicePasswordExpiration = 0x19, since(V12_0);
        DevicePasswordHistory = 0x1A, since(V12_0);
        AllowStorageCard = 0x1B, since(V12_1);
        AllowCamera = 0x1C, since(V12_1);
        RequireDeviceEncryption = 0x1D, since(V12_1);
        AllowUnsignedApplications = 0x1E, since(V12_1);
        AllowUnsignedInstallationPackages = 0x1F, since(V12_1);
        MinDevicePasswordComplexCharacters = 0x20, since(V12_1);
        AllowWiFi = 0x21, since(V12_1);
        AllowTextMessaging = 0x22, since(V12_1);
        AllowPOPIMAPEmail = 0x23, since(V12_1);
        AllowBluetooth = 0x24, since(V12_1);
        AllowIrDA = 0x25, since(V12_1);
        RequireManualSyncWhenRoaming = 0x26, since(V12_1);
        AllowDesktopSync = 0x27, since(V12_1);
        MaxCalendarAgeFilter = 0x28, since(V12_1);
        AllowHTMLEmail = 0x29, since(V12_1);
        MaxEmailAgeFilter = 0x2A, since(V12_1);
        MaxEmailBodyTruncationSize = 0x2B, since(V12_1);
        MaxEmailHTMLBodyTruncationSize = 0x2C, since(V12_1);
        RequireSignedSMIMEMessages = 0x2D, since(V12_1);
        RequireEncryptedSMIMEMessages = 0x2E, since(V12_1);
        RequireSignedSMIMEAlgorithm = 0x2F, since(V12_1);
        RequireEncryptionSMIMEAlgorithm = 0x30, since(V12_1);
        AllowSMIMEEncryptionAlgorithmNegotiation = 0x31, since(V12_1);
        AllowSMIMESoftCerts = 0x32, since(V12_1);
        AllowBrowser = 0x33, since(V12_1);
        AllowConsumerEmail = 0x34, since(V12_1);
        AllowRemoteDesktop = 0x35, since(V12_1);
        AllowInternetSharing = 0x36, since(V12_1);
        UnapprovedInROMApplicationList = 0x37, since(V12_1);
        ApplicationName = 0x38, since(V12_1);
        ApprovedApplicationList = 0x39, since(V12_1);
        Hash = 0x3A, since(V12_1);
        AccountOnlyRemoteWipe = 0x3B, since(V16_1);
    }

    /// Code page 15: Search (MS-ASWBXML 2.1.2.1.16).
    15 => Search, search {
        Search = 0x05, ALL;
        Store = 0x07, ALL;
        Name = 0x08, ALL;
        Query = 0x09, ALL;
        Options = 0x0A, ALL;
        Range = 0x0B, ALL;
        Status = 0x0C, ALL;
        Response = 0x0D, ALL;
        Result = 0x0E, ALL;
        Properties = 0x0F, ALL;
        Total = 0x10, ALL;
        EqualTo = 0x11, since(V12_0);
        Value = 0x12, since(V12_0);
        And = 0x13, since(V12_0);
        Or = 0x14, since(V12_0);
        FreeText = 0x15, since(V12_0);
        DeepTraversal = 0x17, since(V12_0);
        LongId = 0x18, since(V12_0);
        RebuildResults = 0x19, since(V12_0);
        LessThan = 0x1A, since(V12_0);
        GreaterThan = 0x1B, since(V12_0);
        UserName = 0x1E, since(V12_1);
        Password = 0x1F, since(V12_1);
        // Not opaque: MS-ASCMD 2.2.3.35.2 gives it the string data type
        // ("The value is a GUID"), unlike email2:ConversationId and
        // itemoperations:ConversationId, which the specs call byte arrays.
        ConversationId = 0x20, since(V14_0);
        Picture = 0x21, since(V14_1);
        MaxSize = 0x22, since(V14_1);
        MaxPictures = 0x23, since(V14_1);
    }

    /// Code page 16: GAL (MS-ASWBXML 2.1.2.1.17). The namespace is written
    /// as MS-ASCMD writes it (2.2.4, GAL.xsd); MS-ASWBXML 2.1.2.1 lists it
    /// as "Gal".
    16 => GAL, gal {
        DisplayName = 0x05, ALL;
        Phone = 0x06, ALL;
        Office = 0x07, ALL;
        Title = 0x08, ALL;
        Company = 0x09, ALL;
        Alias = 0x0A, ALL;
        FirstName = 0x0B, ALL;
        LastName = 0x0C, ALL;
        HomePhone = 0x0D, ALL;
        MobilePhone = 0x0E, ALL;
        EmailAddress = 0x0F, ALL;
        Picture = 0x10, since(V14_1);
        Status = 0x11, since(V14_1);
        // MS-ASCMD 2.2.3.39.1 Data (Find) and 2.2.3.39.4 Data (Search): data
        // type "Byte array", which [MS-ASDTYPE] 2.7.1 says MUST be sent as
        // opaque data. (GAL.xsd declares it xs:string, consistent with
        // [MS-ASDTYPE] 2.7.1 calling a byte array "a structure inside of an
        // element of the string type".)
        Data = 0x12, since(V14_1), Opaque;
    }

    /// Code page 17: AirSyncBase (MS-ASWBXML 2.1.2.1.18).
    17 => AirSyncBase, airsyncbase {
        BodyPreference = 0x05, since(V12_0);
        Type = 0x06, since(V12_0);
        TruncationSize = 0x07, since(V12_0);
        AllOrNone = 0x08, since(V12_0);
        Body = 0x0A, since(V12_0);
        // Not opaque: [MS-ASAIRS] 2.2.2.20.1 returns the body "as a string in
        // the format that is specified by the Type element" (base64 for RTF).
        Data = 0x0B, since(V12_0);
        EstimatedDataSize = 0x0C, since(V12_0);
        Truncated = 0x0D, since(V12_0);
        Attachments = 0x0E, since(V12_0);
        Attachment = 0x0F, since(V12_0);
        DisplayName = 0x10, since(V12_0);
        FileReference = 0x11, since(V12_0);
        Method = 0x12, since(V12_0);
        ContentId = 0x13, since(V12_0);
        ContentLocation = 0x14, since(V12_0);
        IsInline = 0x15, since(V12_0);
        NativeBodyType = 0x16, since(V12_0);
        ContentType = 0x17, since(V12_0);
        Preview = 0x18, since(V14_0);
        BodyPartPreference = 0x19, since(V14_1);
        BodyPart = 0x1A, since(V14_1);
        Status = 0x1B, since(V14_1);
        Add = 0x1C, since(V16_0);
        Delete = 0x1D, since(V16_0);
        ClientId = 0x1E, since(V16_0);
        // [MS-ASAIRS] 2.2.2.15 Content: "a string data type byte array, as
        // specified in [MS-ASDTYPE] section 2.7.1", hence opaque.
        Content = 0x1F, since(V16_0), Opaque;
        Location = 0x20, since(V16_0);
        Annotation = 0x21, since(V16_0);
        Street = 0x22, since(V16_0);
        City = 0x23, since(V16_0);
        State = 0x24, since(V16_0);
        Country = 0x25, since(V16_0);
        PostalCode = 0x26, since(V16_0);
        Latitude = 0x27, since(V16_0);
        Longitude = 0x28, since(V16_0);
        Accuracy = 0x29, since(V16_0);
        Altitude = 0x2A, since(V16_0);
        AltitudeAccuracy = 0x2B, since(V16_0);
        LocationUri = 0x2C, since(V16_0);
        InstanceId = 0x2D, since(V16_0);
    }

    /// Code page 18: Settings (MS-ASWBXML 2.1.2.1.19).
    18 => Settings, settings {
        Settings = 0x05, since(V12_0);
        Status = 0x06, since(V12_0);
        Get = 0x07, since(V12_0);
        Set = 0x08, since(V12_0);
        Oof = 0x09, since(V12_0);
        OofState = 0x0A, since(V12_0);
        StartTime = 0x0B, since(V12_0);
        EndTime = 0x0C, since(V12_0);
        OofMessage = 0x0D, since(V12_0);
        AppliesToInternal = 0x0E, since(V12_0);
        AppliesToExternalKnown = 0x0F, since(V12_0);
        AppliesToExternalUnknown = 0x10, since(V12_0);
        Enabled = 0x11, since(V12_0);
        ReplyMessage = 0x12, since(V12_0);
        BodyType = 0x13, since(V12_0);
        DevicePassword = 0x14, since(V12_0);
        Password = 0x15, since(V12_0);
        DeviceInformation = 0x16, since(V12_0);
        Model = 0x17, since(V12_0);
        IMEI = 0x18, since(V12_0);
        FriendlyName = 0x19, since(V12_0);
        OS = 0x1A, since(V12_0);
        OSLanguage = 0x1B, since(V12_0);
        PhoneNumber = 0x1C, since(V12_0);
        UserInformation = 0x1D, since(V12_0);
        EmailAddresses = 0x1E, since(V12_0);
        SMTPAddress = 0x1F, since(V12_0);
        UserAgent = 0x20, since(V12_1);
        EnableOutboundSMS = 0x21, since(V14_0);
        MobileOperator = 0x22, since(V14_0);
        PrimarySmtpAddress = 0x23, since(V14_1);
        Accounts = 0x24, since(V14_1);
        Account = 0x25, since(V14_1);
        AccountId = 0x26, since(V14_1);
        AccountName = 0x27, since(V14_1);
        UserDisplayName = 0x28, since(V14_1);
        SendDisabled = 0x29, since(V14_1);
        // The spec skips 0x2A.
        RightsManagementInformation = 0x2B, since(V14_1);
    }

    /// Code page 19: DocumentLibrary (MS-ASWBXML 2.1.2.1.20).
    19 => DocumentLibrary, documentlibrary {
        LinkId = 0x05, since(V12_0);
        DisplayName = 0x06, since(V12_0);
        IsFolder = 0x07, since(V12_0);
        CreationDate = 0x08, since(V12_0);
        LastModifiedDate = 0x09, since(V12_0);
        IsHidden = 0x0A, since(V12_0);
        ContentLength = 0x0B, since(V12_0);
        ContentType = 0x0C, since(V12_0);
    }

    /// Code page 20: ItemOperations (MS-ASWBXML 2.1.2.1.21).
    20 => ItemOperations, itemoperations {
        ItemOperations = 0x05, since(V12_0);
        Fetch = 0x06, since(V12_0);
        Store = 0x07, since(V12_0);
        Options = 0x08, since(V12_0);
        Range = 0x09, since(V12_0);
        Total = 0x0A, since(V12_0);
        Properties = 0x0B, since(V12_0);
        // Not opaque: MS-ASCMD 2.2.3.39.2 gives it the string data type, "a
        // base64 encoding of the binary document, attachment, or body data".
        // (Multipart responses carry the bytes outside the WBXML instead.)
        Data = 0x0C, since(V12_0);
        Status = 0x0D, since(V12_0);
        Response = 0x0E, since(V12_0);
        Version = 0x0F, since(V12_0);
        Schema = 0x10, since(V12_0);
        // MS-ASCMD 2.2.3.130: an integer index into the multipart metadata.
        Part = 0x11, since(V12_0);
        EmptyFolderContents = 0x12, since(V12_0);
        DeleteSubFolders = 0x13, since(V12_0);
        UserName = 0x14, since(V12_1);
        Password = 0x15, since(V12_1);
        Move = 0x16, since(V14_0);
        DstFldId = 0x17, since(V14_0);
        // [MS-ASCON] 2.2.2.3.1 ConversationId (ItemOperations): "The value of
        // this element is a byte array, as specified in [MS-ASDTYPE] section
        // 2.7.1", hence opaque. (MS-ASCMD 2.2.3.35.1 only says "string",
        // which [MS-ASDTYPE] 2.7.1 does not contradict.)
        ConversationId = 0x18, since(V14_0), Opaque;
        MoveAlways = 0x19, since(V14_0);
    }

    /// Code page 21: ComposeMail (MS-ASWBXML 2.1.2.1.22).
    21 => ComposeMail, composemail {
        SendMail = 0x05, since(V14_0);
        SmartForward = 0x06, since(V14_0);
        SmartReply = 0x07, since(V14_0);
        SaveInSentItems = 0x08, since(V14_0);
        ReplaceMime = 0x09, since(V14_0);
        Source = 0x0B, since(V14_0);
        FolderId = 0x0C, since(V14_0);
        ItemId = 0x0D, since(V14_0);
        LongId = 0x0E, since(V14_0);
        InstanceId = 0x0F, since(V14_0);
        // MS-ASCMD 2.2.3.109 Mime: data type "Byte array"; "The Mime element
        // content is transferred as an opaque BLOB within the WBXML tags".
        Mime = 0x10, since(V14_0), Opaque;
        ClientId = 0x11, since(V14_0);
        Status = 0x12, since(V14_0);
        AccountId = 0x13, since(V14_1);
        Forwardees = 0x15, since(V16_0);
        Forwardee = 0x16, since(V16_0);
        // The spec names these two `Name` and `Email`; Microsoft's own
        // protocol test suite calls them `ForwardeeName`/`ForwardeeEmail`.
        Name = 0x17, since(V16_0);
        Email = 0x18, since(V16_0);
    }

    /// Code page 22: Email2 (MS-ASWBXML 2.1.2.1.23).
    22 => Email2, email2 {
        UmCallerID = 0x05, since(V14_0);
        UmUserNotes = 0x06, since(V14_0);
        UmAttDuration = 0x07, since(V14_0);
        UmAttOrder = 0x08, since(V14_0);
        // [MS-ASEMAIL] 2.2.2.21: "a byte array data type, as specified in
        // [MS-ASDTYPE] section 2.7.1"; "transferred as an opaque binary large
        // object (BLOB) within the WBXML tags".
        ConversationId = 0x09, since(V14_0), Opaque;
        // [MS-ASCON] 2.2.2.4 (for [MS-ASEMAIL] 2.2.2.22): "a byte array, as
        // specified in [MS-ASDTYPE] section 2.7.1", hence opaque.
        ConversationIndex = 0x0A, since(V14_0), Opaque;
        LastVerbExecuted = 0x0B, since(V14_0);
        LastVerbExecutionTime = 0x0C, since(V14_0);
        ReceivedAsBcc = 0x0D, since(V14_0);
        Sender = 0x0E, since(V14_0);
        CalendarType = 0x0F, since(V14_0);
        IsLeapMonth = 0x10, since(V14_0);
        AccountId = 0x11, since(V14_1);
        FirstDayOfWeek = 0x12, since(V14_1);
        MeetingMessageType = 0x13, since(V14_1);
        IsDraft = 0x15, since(V16_0);
        Bcc = 0x16, since(V16_0);
        Send = 0x17, since(V16_0);
    }

    /// Code page 23: Notes (MS-ASWBXML 2.1.2.1.24).
    23 => Notes, notes {
        Subject = 0x05, since(V14_0);
        MessageClass = 0x06, since(V14_0);
        LastModifiedDate = 0x07, since(V14_0);
        Categories = 0x08, since(V14_0);
        Category = 0x09, since(V14_0);
    }

    /// Code page 24: RightsManagement (MS-ASWBXML 2.1.2.1.25).
    24 => RightsManagement, rightsmanagement {
        RightsManagementSupport = 0x05, since(V14_1);
        RightsManagementTemplates = 0x06, since(V14_1);
        RightsManagementTemplate = 0x07, since(V14_1);
        RightsManagementLicense = 0x08, since(V14_1);
        EditAllowed = 0x09, since(V14_1);
        ReplyAllowed = 0x0A, since(V14_1);
        ReplyAllAllowed = 0x0B, since(V14_1);
        ForwardAllowed = 0x0C, since(V14_1);
        ModifyRecipientsAllowed = 0x0D, since(V14_1);
        ExtractAllowed = 0x0E, since(V14_1);
        PrintAllowed = 0x0F, since(V14_1);
        ExportAllowed = 0x10, since(V14_1);
        ProgrammaticAccessAllowed = 0x11, since(V14_1);
        Owner = 0x12, since(V14_1);
        ContentExpiryDate = 0x13, since(V14_1);
        TemplateID = 0x14, since(V14_1);
        TemplateName = 0x15, since(V14_1);
        TemplateDescription = 0x16, since(V14_1);
        ContentOwner = 0x17, since(V14_1);
        RemoveRightsManagementProtection = 0x18, since(V14_1);
    }

    /// Code page 25: Find (MS-ASWBXML 2.1.2.1.26). 16.1 only.
    25 => Find, find {
        Find = 0x05, since(V16_1);
        SearchId = 0x06, since(V16_1);
        ExecuteSearch = 0x07, since(V16_1);
        MailBoxSearchCriterion = 0x08, since(V16_1);
        Query = 0x09, since(V16_1);
        Status = 0x0A, since(V16_1);
        FreeText = 0x0B, since(V16_1);
        Options = 0x0C, since(V16_1);
        Range = 0x0D, since(V16_1);
        DeepTraversal = 0x0E, since(V16_1);
        Response = 0x11, since(V16_1);
        Result = 0x12, since(V16_1);
        Properties = 0x13, since(V16_1);
        Preview = 0x14, since(V16_1);
        HasAttachments = 0x15, since(V16_1);
        Total = 0x16, since(V16_1);
        DisplayCc = 0x17, since(V16_1);
        DisplayBcc = 0x18, since(V16_1);
        // MS-ASCMD 2.2.3.82 spells the element `GALSearchCriterion`; the
        // WBXML table spells it as below.
        GalSearchCriterion = 0x19, since(V16_1);
        // The spec jumps from 0x19 to 0x20. Some peer tables use 0x1A, 0x1B
        // and 0x1C for these three; the spec, and Microsoft's own protocol
        // test suite (OfficeDev/Interop-TestSuites), use 0x20, 0x21, 0x22.
        MaxPictures = 0x20, since(V16_1);
        MaxSize = 0x21, since(V16_1);
        Picture = 0x22, since(V16_1);
    }
}
