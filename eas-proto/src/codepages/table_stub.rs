use super::{ContentKind, PageDef, TagDef};
code_pages! {
    0 => AirSync, airsync { Sync = 0x05, ALL; Responses = 0x06, ALL; Add = 0x07, ALL; Change = 0x08, ALL; Delete = 0x09, ALL; Fetch = 0x0A, ALL; SyncKey = 0x0B, ALL; ClientId = 0x0C, ALL; ServerId = 0x0D, ALL; Status = 0x0E, ALL; Collection = 0x0F, ALL; Class = 0x10, ALL; CollectionId = 0x12, ALL; GetChanges = 0x13, ALL; MoreAvailable = 0x14, ALL; WindowSize = 0x15, ALL; Commands = 0x16, ALL; Options = 0x17, ALL; FilterType = 0x18, ALL; Collections = 0x1C, ALL; ApplicationData = 0x1D, ALL; }
    1 => Contacts, contacts { Anniversary = 0x05, ALL; }
    2 => Email, email { DateReceived = 0x0F, ALL; DisplayTo = 0x11, ALL; Importance = 0x12, ALL; MessageClass = 0x13, ALL; Subject = 0x14, ALL; Read = 0x15, ALL; To = 0x16, ALL; Cc = 0x17, ALL; From = 0x18, ALL; ReplyTo = 0x19, ALL; }
    3 => AirNotify, airnotify { }
    4 => Calendar, calendar { TimeZone = 0x05, ALL; }
    5 => Move, moveitems { MoveItems = 0x05, ALL; }
    6 => GetItemEstimate, getitemestimate { GetItemEstimate = 0x05, ALL; }
    7 => FolderHierarchy, folderhierarchy { DisplayName = 0x07, ALL; ServerId = 0x08, ALL; ParentId = 0x09, ALL; Type = 0x0A, ALL; Status = 0x0C, ALL; Changes = 0x0E, ALL; Add = 0x0F, ALL; Delete = 0x10, ALL; Update = 0x11, ALL; SyncKey = 0x12, ALL; FolderCreate = 0x13, ALL; FolderDelete = 0x14, ALL; FolderUpdate = 0x15, ALL; FolderSync = 0x16, ALL; Count = 0x17, ALL; }
    8 => MeetingResponse, meetingresponse { CalendarId = 0x05, ALL; }
    9 => Tasks, tasks { Body = 0x05, ALL; }
    10 => ResolveRecipients, resolverecipients { ResolveRecipients = 0x05, ALL; }
    11 => ValidateCert, validatecert { ValidateCert = 0x05, ALL; }
    12 => Contacts2, contacts2 { CustomerId = 0x05, ALL; }
    13 => Ping, ping { Ping = 0x05, ALL; }
    14 => Provision, provision { Provision = 0x05, ALL; }
    15 => Search, search { Search = 0x05, ALL; }
    16 => GAL, gal { DisplayName = 0x05, ALL; }
    17 => AirSyncBase, airsyncbase { BodyPreference = 0x05, ALL; Type = 0x06, ALL; TruncationSize = 0x07, ALL; AllOrNone = 0x08, ALL; Body = 0x0A, ALL; Data = 0x0B, ALL; EstimatedDataSize = 0x0C, ALL; Truncated = 0x0D, ALL; }
    18 => Settings, settings { Settings = 0x05, ALL; }
    19 => DocumentLibrary, documentlibrary { LinkId = 0x05, ALL; }
    20 => ItemOperations, itemoperations { ItemOperations = 0x05, ALL; }
    21 => ComposeMail, composemail { SendMail = 0x05, ALL; SmartForward = 0x06, ALL; SmartReply = 0x07, ALL; SaveInSentItems = 0x08, ALL; ReplaceMime = 0x09, ALL; Source = 0x0B, ALL; FolderId = 0x0C, ALL; ItemId = 0x0D, ALL; LongId = 0x0E, ALL; InstanceId = 0x0F, ALL; Mime = 0x10, ALL, Opaque; ClientId = 0x11, ALL; Status = 0x12, ALL; AccountId = 0x13, ALL; }
    22 => Email2, email2 { UmCallerID = 0x05, ALL; UmUserNotes = 0x06, ALL; UmAttDuration = 0x07, ALL; UmAttOrder = 0x08, ALL; ConversationId = 0x09, ALL, Opaque; ConversationIndex = 0x0A, ALL, Opaque; }
    23 => Notes, notes { Subject = 0x05, ALL; }
    24 => RightsManagement, rightsmanagement { RightsManagementSupport = 0x05, ALL; }
    25 => Find, find { Find = 0x05, ALL; }
}
