"""The org's metadata: objects and fields loaded from schema.json, describe.

schema.json lists each object's own fields with the attributes that matter
(type, label, length, nillable, externalId, ...).  This module fills every
other key of a describe field entry with the value Salesforce shows for such
a field, so GET .../sobjects/{SObject}/describe carries every key of the
captured describe (REST API Developer Guide, "sObject Describe"; the captured
field entries are Apache Camel's objectDescription.json test resource).
"""
import json

# Field keys in the order of a captured describe field entry.
FIELD_KEYS = [
    "aggregatable", "aiPredictionField", "autoNumber", "byteLength", "calculated",
    "calculatedFormula", "cascadeDelete", "caseSensitive", "compoundFieldName",
    "controllerName", "createable", "custom", "defaultValue", "defaultValueFormula",
    "defaultedOnCreate", "dependentPicklist", "deprecatedAndHidden", "digits",
    "displayLocationInDecimal", "encrypted", "externalId", "extraTypeInfo", "filterable",
    "filteredLookupInfo", "formulaTreatNullNumberAsZero", "groupable", "highScaleNumber",
    "htmlFormatted", "idLookup", "inlineHelpText", "label", "length", "mask", "maskType",
    "name", "nameField", "namePointing", "nillable", "permissionable", "picklistValues",
    "polymorphicForeignKey", "precision", "queryByDistance", "referenceTargetField",
    "referenceTo", "relationshipName", "relationshipOrder", "restrictedDelete",
    "restrictedPicklist", "scale", "searchPrefilterable", "soapType", "sortable", "type",
    "unique", "updateable", "writeRequiresMasterRead",
]

SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "long": "xsd:long", "double": "xsd:double", "currency": "xsd:double",
    "percent": "xsd:double", "date": "xsd:date", "datetime": "xsd:dateTime",
}

SYSTEM_FIELDS = [
    {"name": "Id", "type": "id", "label": "Record ID", "length": 18, "createable": False,
     "updateable": False, "nillable": False, "defaultedOnCreate": True, "idLookup": True},
    {"name": "IsDeleted", "type": "boolean", "label": "Deleted", "createable": False,
     "updateable": False},
    {"name": "CreatedDate", "type": "datetime", "label": "Created Date", "createable": False,
     "updateable": False, "nillable": False, "defaultedOnCreate": True},
    {"name": "LastModifiedDate", "type": "datetime", "label": "Last Modified Date",
     "createable": False, "updateable": False, "nillable": False, "defaultedOnCreate": True},
]


def _complete_field(spec):
    """Return a full describe entry for a field spec from schema.json."""
    ftype = spec["type"]
    name = spec["name"]
    is_text = ftype not in ("boolean", "int", "long", "double", "currency", "percent",
                            "date", "datetime")
    length = spec.get("length", 18 if ftype in ("id", "reference") else (255 if is_text else 0))

    f = {
        "aggregatable": True, "aiPredictionField": False, "autoNumber": False,
        "byteLength": length * 3 if ftype not in ("id", "reference") else 18,
        "calculated": False, "calculatedFormula": None, "cascadeDelete": False,
        "caseSensitive": False, "compoundFieldName": None, "controllerName": None,
        "createable": True, "custom": name.endswith("__c"), "defaultValue": None,
        "defaultValueFormula": None, "defaultedOnCreate": False, "dependentPicklist": False,
        "deprecatedAndHidden": False, "digits": 0, "displayLocationInDecimal": False,
        "encrypted": False, "externalId": False, "extraTypeInfo": None, "filterable": True,
        "filteredLookupInfo": None, "formulaTreatNullNumberAsZero": False,
        "groupable": ftype not in ("double", "currency", "percent", "textarea", "datetime"),
        "highScaleNumber": False, "htmlFormatted": False, "idLookup": False,
        "inlineHelpText": None, "label": name, "length": length if is_text else 0,
        "mask": None, "maskType": None, "name": name, "nameField": False,
        "namePointing": False, "nillable": True, "permissionable": name.endswith("__c"),
        "picklistValues": [], "polymorphicForeignKey": False, "precision": 0,
        "queryByDistance": False, "referenceTargetField": None, "referenceTo": [],
        "relationshipName": None, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": False, "scale": 0, "searchPrefilterable": False,
        "soapType": SOAP_TYPES.get(ftype, "xsd:string"), "sortable": ftype != "textarea",
        "type": ftype, "unique": False, "updateable": True, "writeRequiresMasterRead": False,
    }

    if ftype == "boolean":
        # Checkboxes are never null and default to false.
        f.update(nillable=False, defaultedOnCreate=True, defaultValue=False)
    if ftype == "int":
        f["digits"] = spec.get("digits", 9)
    if ftype in ("double", "currency", "percent"):
        f.update(precision=spec.get("precision", 18), scale=spec.get("scale", 2 if ftype == "currency" else 0))
    if ftype == "textarea":
        f["extraTypeInfo"] = "plaintextarea"
    if ftype == "picklist" or ftype == "multipicklist":
        f["picklistValues"] = [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in spec.get("values", [])]

    for key, value in spec.items():
        if key in f:
            f[key] = value
    if f["externalId"] or f["unique"]:
        f["idLookup"] = spec.get("idLookup", True)
    if ftype == "reference" and f["referenceTo"] and len(f["referenceTo"]) > 1:
        f["polymorphicForeignKey"] = True
    return {k: f[k] for k in FIELD_KEYS}


class SObject:
    """One object's metadata with case-insensitive field lookup."""

    def __init__(self, name, spec):
        self.name = name
        self.label = spec.get("label", name)
        self.label_plural = spec.get("labelPlural", self.label + "s")
        self.key_prefix = spec["keyPrefix"]
        self.custom = spec.get("custom", name.endswith("__c"))
        own = [s for s in spec["fields"]]
        names = {s["name"].lower() for s in own}
        specs = [s for s in SYSTEM_FIELDS if s["name"].lower() not in names] + own
        self.fields = [_complete_field(s) for s in specs]
        self._by_lower = {f["name"].lower(): f for f in self.fields}
        self._by_rel = {f["relationshipName"].lower(): f for f in self.fields
                        if f["type"] == "reference" and f["relationshipName"]}
        self.child_rel_names = {s["name"]: s.get("childRelationshipName") for s in own}

    def field(self, name):
        return self._by_lower.get(name.lower())

    def relationship(self, name):
        """The reference field whose relationshipName is name, or None."""
        return self._by_rel.get(name.lower())

    def lookup_fields(self):
        """Fields indexed for matching: external ids, unique and idLookup fields."""
        return [f for f in self.fields
                if f["name"] != "Id" and (f["externalId"] or f["unique"] or f["idLookup"])]

    def required_on_insert(self):
        # A field is required when createable && !nillable && !defaultedOnCreate
        # (REST API Developer Guide, "sObject Describe" field properties).
        return [f for f in self.fields
                if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]]


class Schema:
    def __init__(self, path):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        self.objects = {name: SObject(name, spec) for name, spec in data["objects"].items()}
        self._by_lower = {n.lower(): o for n, o in self.objects.items()}
        self._by_prefix = {o.key_prefix: o for o in self.objects.values()}

    def get(self, name):
        return self._by_lower.get(name.lower()) if isinstance(name, str) else None

    def by_prefix(self, prefix):
        return self._by_prefix.get(prefix)

    def describe(self, obj, version):
        """The sObject Describe body (REST API Developer Guide, "sObject Describe")."""
        base = "/services/data/v%s/sobjects/%s" % (version, obj.name)
        return {
            "actionOverrides": [], "activateable": False, "associateEntityType": None,
            "associateParentEntity": None, "childRelationships": self._children(obj),
            "compactLayoutable": True, "createable": True, "custom": obj.custom,
            "customSetting": False, "dataTranslationEnabled": False,
            "deepCloneable": False, "defaultImplementation": None, "deletable": True,
            "deprecatedAndHidden": False, "extendedBy": None, "extendsInterfaces": None,
            "feedEnabled": False, "fields": obj.fields, "hasSubtypes": False,
            "implementedBy": None, "implementsInterfaces": None, "isInterface": False,
            "isSubtype": False, "keyPrefix": obj.key_prefix, "label": obj.label,
            "labelPlural": obj.label_plural, "layoutable": True, "listviewable": None,
            "lookupLayoutable": None, "mergeable": False, "mruEnabled": True,
            "name": obj.name, "namedLayoutInfos": [], "networkScopeFieldName": None,
            "queryable": True, "recordTypeInfos": [], "replicateable": True,
            "retrieveable": True, "searchLayoutable": True, "searchable": True,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [{"label": "All %s" % obj.label_plural, "name": "everything"}],
            "triggerable": True, "undeletable": True, "updateable": True,
            "urls": {"compactLayouts": base + "/describe/compactLayouts",
                     "rowTemplate": base + "/{ID}", "describe": base + "/describe",
                     "sobject": base},
        }

    def _children(self, parent):
        out = []
        for child in self.objects.values():
            for f in child.fields:
                if f["type"] == "reference" and parent.name in f["referenceTo"]:
                    rel = child.child_rel_names.get(f["name"]) or (
                        child.name[:-3] + "s__r" if child.custom else child.label_plural.replace(" ", ""))
                    out.append({"cascadeDelete": False, "childSObject": child.name,
                                "deprecatedAndHidden": False, "field": f["name"],
                                "junctionIdListNames": [], "junctionReferenceTo": [],
                                "relationshipName": rel, "restrictedDelete": False})
        return out

    def summary(self, version):
        """The Describe Global body (REST API Developer Guide, "Describe Global")."""
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
            {"name": o.name, "label": o.label, "labelPlural": o.label_plural,
             "keyPrefix": o.key_prefix, "custom": o.custom, "createable": True,
             "updateable": True, "deletable": True, "queryable": True,
             "urls": {"sobject": "/services/data/v%s/sobjects/%s" % (version, o.name),
                      "describe": "/services/data/v%s/sobjects/%s/describe" % (version, o.name)}}
            for o in self.objects.values()]}
