CREATE TABLE content_loads (
	kind VARCHAR(40) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	PRIMARY KEY (kind)
)
CREATE TABLE evidence_rows (
	id INTEGER NOT NULL, 
	treatment VARCHAR(40) NOT NULL, 
	condition VARCHAR(40) NOT NULL, 
	evidence VARCHAR(20) NOT NULL, 
	grade VARCHAR(30) NOT NULL, 
	estimate_comparison VARCHAR(80), 
	reviewed_on DATE NOT NULL, 
	content_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evidence_rows_pair UNIQUE (treatment, condition)
)
CREATE TABLE evidence_sources (
	id VARCHAR(60) NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR(400) NOT NULL, 
	url VARCHAR(500) NOT NULL, 
	published VARCHAR(10) NOT NULL, 
	PRIMARY KEY (id)
)
CREATE TABLE faq_topics (
	"key" VARCHAR(80) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	treatment VARCHAR(40) NOT NULL, 
	aspect VARCHAR(40) NOT NULL, 
	short TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	reviewed_on DATE NOT NULL, 
	content_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY ("key")
)
CREATE TABLE forget_requests (
	id INTEGER NOT NULL, 
	conversation_id VARCHAR(255) NOT NULL, 
	marker VARCHAR(32) NOT NULL, 
	requested_at DATETIME NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error VARCHAR(200), 
	done_at DATETIME, 
	PRIMARY KEY (id)
)
CREATE INDEX ix_forget_requests_conversation_id ON forget_requests (conversation_id)
CREATE INDEX ix_forget_requests_done_at ON forget_requests (done_at)
CREATE TABLE legal_acupuncture_licensure (
	state_code VARCHAR(2) NOT NULL, 
	state_name VARCHAR(40) NOT NULL, 
	licensed BOOLEAN NOT NULL, 
	licensed_title VARCHAR(300), 
	board_name VARCHAR(300), 
	lookup_url VARCHAR(500), 
	lookup_hint TEXT NOT NULL, 
	exam TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	source_date DATE, 
	source_date_precision VARCHAR(10) NOT NULL, 
	verified_on DATE NOT NULL, 
	data_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (state_code)
)
CREATE INDEX ix_legal_acupuncture_licensure_licensed ON legal_acupuncture_licensure (licensed)
CREATE TABLE legal_dry_needling (
	state_code VARCHAR(2) NOT NULL, 
	state_name VARCHAR(40) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	summary TEXT NOT NULL, 
	"conflict" TEXT, 
	board VARCHAR(200), 
	board_url VARCHAR(500), 
	source_date DATE, 
	source_date_precision VARCHAR(10) NOT NULL, 
	verified_on DATE NOT NULL, 
	data_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (state_code)
)
CREATE INDEX ix_legal_dry_needling_status ON legal_dry_needling (status)
CREATE TABLE legal_sources (
	"key" VARCHAR(80) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	url VARCHAR(500), 
	dated VARCHAR(80) NOT NULL, 
	PRIMARY KEY ("key")
)
CREATE TABLE practitioner_licences (
	id INTEGER NOT NULL, 
	state VARCHAR(2) NOT NULL, 
	license_number VARCHAR(40) NOT NULL, 
	number_key VARCHAR(40) NOT NULL, 
	license_type VARCHAR(80) NOT NULL, 
	profession VARCHAR(20) NOT NULL, 
	first_name VARCHAR(80) NOT NULL, 
	last_name VARCHAR(80) NOT NULL, 
	first_key VARCHAR(80) NOT NULL, 
	last_key VARCHAR(80) NOT NULL, 
	city VARCHAR(80), 
	city_key VARCHAR(80), 
	status VARCHAR(20) NOT NULL, 
	issue_date DATE, 
	expiration_date DATE, 
	credentials VARCHAR(200), 
	national_certification VARCHAR(40), 
	source VARCHAR(200) NOT NULL, 
	retrieved_on DATE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_practitioner_licences_state_number UNIQUE (state, number_key)
)
CREATE INDEX ix_practitioner_licences_city ON practitioner_licences (state, city_key, profession, status)
CREATE INDEX ix_practitioner_licences_name ON practitioner_licences (state, last_key, first_key)
CREATE TABLE evidence_figures (
	id INTEGER NOT NULL, 
	row_id INTEGER NOT NULL, 
	name VARCHAR(40) NOT NULL, 
	value FLOAT NOT NULL, 
	source_id VARCHAR(60) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evidence_figures_name UNIQUE (row_id, name), 
	FOREIGN KEY(row_id) REFERENCES evidence_rows (id) ON DELETE CASCADE, 
	FOREIGN KEY(source_id) REFERENCES evidence_sources (id)
)
CREATE INDEX ix_evidence_figures_row_id ON evidence_figures (row_id)
CREATE TABLE evidence_parts (
	id INTEGER NOT NULL, 
	row_id INTEGER NOT NULL, 
	name VARCHAR(30) NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evidence_parts_name UNIQUE (row_id, name), 
	FOREIGN KEY(row_id) REFERENCES evidence_rows (id) ON DELETE CASCADE
)
CREATE INDEX ix_evidence_parts_row_id ON evidence_parts (row_id)
CREATE TABLE faq_sources (
	id INTEGER NOT NULL, 
	topic_key VARCHAR(80) NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	url VARCHAR(500) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(topic_key) REFERENCES faq_topics ("key") ON DELETE CASCADE
)
CREATE INDEX ix_faq_sources_topic_key ON faq_sources (topic_key)
CREATE TABLE legal_acupuncture_caveats (
	id INTEGER NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_acupuncture_licensure (state_code) ON DELETE CASCADE
)
CREATE INDEX ix_legal_acupuncture_caveats_state_code ON legal_acupuncture_caveats (state_code)
CREATE TABLE legal_acupuncture_citations (
	id INTEGER NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	source_key VARCHAR(80) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_acupuncture_licensure (state_code) ON DELETE CASCADE, 
	FOREIGN KEY(source_key) REFERENCES legal_sources ("key")
)
CREATE INDEX ix_legal_acupuncture_citations_state_code ON legal_acupuncture_citations (state_code)
CREATE TABLE legal_dry_needling_citations (
	id INTEGER NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	source_key VARCHAR(80) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_dry_needling (state_code) ON DELETE CASCADE, 
	FOREIGN KEY(source_key) REFERENCES legal_sources ("key")
)
CREATE INDEX ix_legal_dry_needling_citations_state_code ON legal_dry_needling_citations (state_code)
CREATE TABLE legal_dry_needling_details (
	id INTEGER NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_dry_needling (state_code) ON DELETE CASCADE
)
CREATE INDEX ix_legal_dry_needling_details_state_code ON legal_dry_needling_details (state_code)
CREATE TABLE legal_dry_needling_practitioners (
	id INTEGER NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	practitioner VARCHAR(40) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	verified BOOLEAN NOT NULL, 
	note TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_dry_needling (state_code) ON DELETE CASCADE
)
CREATE INDEX ix_legal_dry_needling_practitioners_state_code ON legal_dry_needling_practitioners (state_code)
CREATE TABLE evidence_part_sources (
	part_id INTEGER NOT NULL, 
	source_id VARCHAR(60) NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (part_id, source_id), 
	FOREIGN KEY(part_id) REFERENCES evidence_parts (id) ON DELETE CASCADE, 
	FOREIGN KEY(source_id) REFERENCES evidence_sources (id)
)
CREATE TABLE content_loads (
	kind VARCHAR(40) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	PRIMARY KEY (kind)
)
CREATE TABLE evidence_rows (
	id SERIAL NOT NULL, 
	treatment VARCHAR(40) NOT NULL, 
	condition VARCHAR(40) NOT NULL, 
	evidence VARCHAR(20) NOT NULL, 
	grade VARCHAR(30) NOT NULL, 
	estimate_comparison VARCHAR(80), 
	reviewed_on DATE NOT NULL, 
	content_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evidence_rows_pair UNIQUE (treatment, condition)
)
CREATE TABLE evidence_sources (
	id VARCHAR(60) NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR(400) NOT NULL, 
	url VARCHAR(500) NOT NULL, 
	published VARCHAR(10) NOT NULL, 
	PRIMARY KEY (id)
)
CREATE TABLE faq_topics (
	key VARCHAR(80) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	treatment VARCHAR(40) NOT NULL, 
	aspect VARCHAR(40) NOT NULL, 
	short TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	reviewed_on DATE NOT NULL, 
	content_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (key)
)
CREATE TABLE forget_requests (
	id SERIAL NOT NULL, 
	conversation_id VARCHAR(255) NOT NULL, 
	marker VARCHAR(32) NOT NULL, 
	requested_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error VARCHAR(200), 
	done_at TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (id)
)
CREATE INDEX ix_forget_requests_conversation_id ON forget_requests (conversation_id)
CREATE INDEX ix_forget_requests_done_at ON forget_requests (done_at)
CREATE TABLE legal_acupuncture_licensure (
	state_code VARCHAR(2) NOT NULL, 
	state_name VARCHAR(40) NOT NULL, 
	licensed BOOLEAN NOT NULL, 
	licensed_title VARCHAR(300), 
	board_name VARCHAR(300), 
	lookup_url VARCHAR(500), 
	lookup_hint TEXT NOT NULL, 
	exam TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	source_date DATE, 
	source_date_precision VARCHAR(10) NOT NULL, 
	verified_on DATE NOT NULL, 
	data_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (state_code)
)
CREATE INDEX ix_legal_acupuncture_licensure_licensed ON legal_acupuncture_licensure (licensed)
CREATE TABLE legal_dry_needling (
	state_code VARCHAR(2) NOT NULL, 
	state_name VARCHAR(40) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	summary TEXT NOT NULL, 
	conflict TEXT, 
	board VARCHAR(200), 
	board_url VARCHAR(500), 
	source_date DATE, 
	source_date_precision VARCHAR(10) NOT NULL, 
	verified_on DATE NOT NULL, 
	data_version VARCHAR(40) NOT NULL, 
	PRIMARY KEY (state_code)
)
CREATE INDEX ix_legal_dry_needling_status ON legal_dry_needling (status)
CREATE TABLE legal_sources (
	key VARCHAR(80) NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	url VARCHAR(500), 
	dated VARCHAR(80) NOT NULL, 
	PRIMARY KEY (key)
)
CREATE TABLE practitioner_licences (
	id SERIAL NOT NULL, 
	state VARCHAR(2) NOT NULL, 
	license_number VARCHAR(40) NOT NULL, 
	number_key VARCHAR(40) NOT NULL, 
	license_type VARCHAR(80) NOT NULL, 
	profession VARCHAR(20) NOT NULL, 
	first_name VARCHAR(80) NOT NULL, 
	last_name VARCHAR(80) NOT NULL, 
	first_key VARCHAR(80) NOT NULL, 
	last_key VARCHAR(80) NOT NULL, 
	city VARCHAR(80), 
	city_key VARCHAR(80), 
	status VARCHAR(20) NOT NULL, 
	issue_date DATE, 
	expiration_date DATE, 
	credentials VARCHAR(200), 
	national_certification VARCHAR(40), 
	source VARCHAR(200) NOT NULL, 
	retrieved_on DATE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_practitioner_licences_state_number UNIQUE (state, number_key)
)
CREATE INDEX ix_practitioner_licences_city ON practitioner_licences (state, city_key, profession, status)
CREATE INDEX ix_practitioner_licences_name ON practitioner_licences (state, last_key, first_key)
CREATE TABLE evidence_figures (
	id SERIAL NOT NULL, 
	row_id INTEGER NOT NULL, 
	name VARCHAR(40) NOT NULL, 
	value FLOAT NOT NULL, 
	source_id VARCHAR(60) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evidence_figures_name UNIQUE (row_id, name), 
	FOREIGN KEY(row_id) REFERENCES evidence_rows (id) ON DELETE CASCADE, 
	FOREIGN KEY(source_id) REFERENCES evidence_sources (id)
)
CREATE INDEX ix_evidence_figures_row_id ON evidence_figures (row_id)
CREATE TABLE evidence_parts (
	id SERIAL NOT NULL, 
	row_id INTEGER NOT NULL, 
	name VARCHAR(30) NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evidence_parts_name UNIQUE (row_id, name), 
	FOREIGN KEY(row_id) REFERENCES evidence_rows (id) ON DELETE CASCADE
)
CREATE INDEX ix_evidence_parts_row_id ON evidence_parts (row_id)
CREATE TABLE faq_sources (
	id SERIAL NOT NULL, 
	topic_key VARCHAR(80) NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	url VARCHAR(500) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(topic_key) REFERENCES faq_topics (key) ON DELETE CASCADE
)
CREATE INDEX ix_faq_sources_topic_key ON faq_sources (topic_key)
CREATE TABLE legal_acupuncture_caveats (
	id SERIAL NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_acupuncture_licensure (state_code) ON DELETE CASCADE
)
CREATE INDEX ix_legal_acupuncture_caveats_state_code ON legal_acupuncture_caveats (state_code)
CREATE TABLE legal_acupuncture_citations (
	id SERIAL NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	source_key VARCHAR(80) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_acupuncture_licensure (state_code) ON DELETE CASCADE, 
	FOREIGN KEY(source_key) REFERENCES legal_sources (key)
)
CREATE INDEX ix_legal_acupuncture_citations_state_code ON legal_acupuncture_citations (state_code)
CREATE TABLE legal_dry_needling_citations (
	id SERIAL NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	source_key VARCHAR(80) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_dry_needling (state_code) ON DELETE CASCADE, 
	FOREIGN KEY(source_key) REFERENCES legal_sources (key)
)
CREATE INDEX ix_legal_dry_needling_citations_state_code ON legal_dry_needling_citations (state_code)
CREATE TABLE legal_dry_needling_details (
	id SERIAL NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	position INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_dry_needling (state_code) ON DELETE CASCADE
)
CREATE INDEX ix_legal_dry_needling_details_state_code ON legal_dry_needling_details (state_code)
CREATE TABLE legal_dry_needling_practitioners (
	id SERIAL NOT NULL, 
	state_code VARCHAR(2) NOT NULL, 
	position INTEGER NOT NULL, 
	practitioner VARCHAR(40) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	verified BOOLEAN NOT NULL, 
	note TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(state_code) REFERENCES legal_dry_needling (state_code) ON DELETE CASCADE
)
CREATE INDEX ix_legal_dry_needling_practitioners_state_code ON legal_dry_needling_practitioners (state_code)
CREATE TABLE evidence_part_sources (
	part_id INTEGER NOT NULL, 
	source_id VARCHAR(60) NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (part_id, source_id), 
	FOREIGN KEY(part_id) REFERENCES evidence_parts (id) ON DELETE CASCADE, 
	FOREIGN KEY(source_id) REFERENCES evidence_sources (id)
)
