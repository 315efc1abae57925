// Numbered schema migrations. The database's PRAGMA user_version is the number of the last
// migration applied; each runs in its own transaction, so a crash never leaves half a schema.
#pragma once

#include "storage/sqlite.h"

namespace meshtrust::storage {

// Applies every migration newer than the database. Refuses a database from a newer meshtrust.
void migrate(Database& db);
int schema_version(Database& db);
int latest_schema_version();

}  // namespace meshtrust::storage
