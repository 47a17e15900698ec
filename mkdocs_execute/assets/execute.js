/* placeholder */ const MX = __MX_STRINGS__;
