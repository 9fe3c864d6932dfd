"""The catalogue of golden fixture cases (data only): scripts/reference_model.py builds test/fixtures from it.

Each case is a dict:
  name, description    the folder under test/fixtures and the README line
  files                {relative path under source/: content}; content is bytes, or {"gzip": bytes} (written
                       gzip-compressed), with "cut_in_half": True for a stream cut in the middle
  files_from           instead of files: a folder of the repository whose files are the source
  as_of                YYYY-MM-DD (default 2021-10-17)
  cities               bytes of a case-local city map (written to cities.csv; default: the bundled map)
  error                the expected error {code, file, line, column} (hand-written; checked against the model)
  expect               hand-computed facts about the outputs, checked against the model (see check_expect there):
    users              {user_id: [name, city, last_login] or None for a key that must be absent}
    user_keys          every key of the users table, ascending
    counts             {file: {op: n} (ops not named are 0), or {"rows": n} for a LOAD file}
    count_files        the files of counts.json, in its order
    features_head      the first feature rows: [user_id, name, city, last_login, state, rank, rate, users_by_city]
    features           {user_id: {field: value}} for fields city, state, rank, rate, n of that user's feature row
    feature_cities     the city of every feature row, in order
    feature_rows       how many feature rows there are
    cities             {city: {field: value}}: rows (how many), users (ids in order), ranks (in order), and the
                       state, rate and n every row of that city has
  premises             facts about the case's own data that make it test what it says:
    days_before_as_of  {date: days between it and as_of}
    utf16_order_differs  two strings in UTF-8 order whose UTF-16 order is the reverse
  source               how the expected output was obtained, for the README (default: DEFAULT_SOURCE, or
                       ERROR_SOURCE for an error case)
"""

BOM = b"\xef\xbb\xbf"

LOAD_BASIC = (b"1,Alice,Austin,2021-10-01\n"
              b"2,Bob,Boston,2021-09-01\n"
              b"3,Carol,Chicago,2021-08-01\n")

GOOD_CHANGE_1 = b"U,1,Alicia,Austin,2021-10-10\nI,4,Dan,Denver,2021-10-02\n"

DEFAULT_SOURCE = "reference model"
ERROR_SOURCE = "hand-written expected error, confirmed by the reference model"

# The sample printed in examples/pyspark-cdc/SEED-README.txt (first 10 feature rows).
SEED_SAMPLE = [
    [73, "Oliver Figueroa", "Austin", "2019-10-03", "Minnesota", 3, 0.3333333333333333, 3],
    [81, "Samantha Myers", "Austin", "2021-01-01", "Minnesota", 2, 0.3333333333333333, 3],
    [11, "Francis Davidson", "Austin", "2021-09-20", "Minnesota", 1, 0.3333333333333333, 3],
    [75, "Malcolm Nelson", "Boston", "2021-07-15", "Massachusetts", 3, 0.6666666666666666, 3],
    [36, "Josephine Sherman", "Boston", "2021-08-14", "Massachusetts", 2, 0.6666666666666666, 3],
    [69, "Maurice Chandler", "Boston", "2021-09-25", "Massachusetts", 1, 0.6666666666666666, 3],
    [20, "Domingo Byrd", "Charlotte", "2021-09-10", "North Carolina", 2, 1.0, 2],
    [3, "Steve Goodwin", "Charlotte", "2021-09-19", "North Carolina", 1, 1.0, 2],
    [93, "Kate Mcbride", "Chicago", "2021-08-13", "Illinois", 2, 1.0, 2],
    [17, "Martin Adkins", "Chicago", "2021-09-03", "Illinois", 1, 1.0, 2],
]

CASES = [
    # ---------------------------------------------------------------- success cases
    dict(
        name="reference",
        description="The 6 seed files from examples/pyspark-cdc/data, as_of 2021-10-17 (first 10 feature rows = SEED-README sample).",
        files_from="examples/pyspark-cdc/data",
        expect=dict(
            features_head=SEED_SAMPLE,
            users={6: ["Mindy George", "Los Angeles", "2021-10-15"],
                   8: ["Kevin Durant", "Denver", "2021-10-14"],
                   9: ["Darla Hayes", "New York", "2021-10-17"]},
            counts={"20211017-194324349.csv": {"inserts": 3, "updates": 3},
                    "LOAD00000001.csv": {"rows": 103}},
            cities={"Nashville": {"rows": 3, "state": "Tennessee", "n": 3}},
            features={9: {"state": None},
                      139: {"state": "New York"}},  # Long Island City
        ),
        source="reference model; first 10 feature rows checked equal to the sample in examples/pyspark-cdc/SEED-README.txt",
    ),
    dict(
        name="quoted-fields",
        description="Quoted fields with commas, doubled quotes, LF and CRLF inside quotes, quoted ints/dates, city 'Washington, D.C.' from the map.",
        files={"LOAD00000001.csv": (b'1,"Smith, ""Bobby""","Washington, D.C.",2021-10-01\n'
                                    b'2,"line one\nline two",Boston,2021-09-01\n'
                                    b'3,"crlf one\r\ncrlf two","Boston",\n'
                                    b'"4","""","Chicago","2021-10-17"\n'),
               "20211017-120000000.csv": (b'I,5,"Ann, ""the""\nsecond","Washington, D.C.",2021-01-01\n'
                                          b'"U","6","x,y","a""b","2021-10-10"\n'
                                          b'D,"6",",",",",","\n')},
        expect=dict(
            users={1: ['Smith, "Bobby"', "Washington, D.C.", "2021-10-01"],
                   2: ["line one\nline two", "Boston", "2021-09-01"],
                   3: ["crlf one\r\ncrlf two", "Boston", None],
                   4: ['"', "Chicago", "2021-10-17"],
                   5: ["Ann, \"the\"\nsecond", "Washington, D.C.", "2021-01-01"]},
            features={1: {"state": "District of Columbia"}},
        ),
    ),
    dict(
        name="unicode",
        description="Unicode names and cities (accents, NFC vs NFD, U+FF21 vs U+1F600 where UTF-8 order differs from UTF-16 order, emoji names); case-local city map.",
        files={"LOAD00000001.csv": ("1,José Ñúñez,São Paulo,2021-10-01\n"
                                    "2,Zoë 😀 Brontë,Zürich,2021-09-30\n"
                                    "3,François,Montréal,2021-10-02\n"
                                    "4,Françoise,Montre\u0301al,2021-10-03\n"
                                    "5,Zed,Zagreb,2021-05-05\n"
                                    "6,Ａｌｉｃｅ,\uff21city,2021-10-04\n").encode("utf-8"),
               "20211017-120000000.csv": ("I,7,李小龍,\uff21city,2021-06-01\n"
                                          "I,8,Ωmega,\U0001F600city,2021-10-05\n"
                                          "I,9,日本語,東京,2021-10-06\n"
                                          "I,10,Ünal,Zürich,2020-01-01\n"
                                          "U,2,Zoë 😀 Brontë,Zürich,2021-10-10\n").encode("utf-8")},
        cities=("city,state\n"
                "São Paulo,SP State\n"
                "Zürich,Canton of Zürich\n"
                "Montréal,Québec\n"
                "\uff21city,Fullwidth State\n"
                "\U0001F600city,Emoji State\n"
                "Zagreb,Grad Zagreb\n"
                "\"Washington, D.C.\",District of Columbia\n").encode("utf-8"),
        expect=dict(
            # UTF-8 byte order: "Montre\u0301al" (e + U+0301) < "Montréal" < ... < 東 < U+FF21 < U+1F600
            feature_cities=["Montre\u0301al", "Montréal", "São Paulo", "Zagreb", "Zürich", "Zürich", "東京",
                            "\uff21city", "\uff21city", "\U0001F600city"],
            features={3: {"state": "Québec"},
                      4: {"state": None},  # decomposed é is a different city
                      8: {"state": "Emoji State"},
                      7: {"state": "Fullwidth State"}},
        ),
        premises=dict(utf16_order_differs=["\uff21city", "\U0001F600city"]),
    ),
    dict(
        name="bom",
        description="UTF-8 BOM at the start of a LOAD file (before a quoted field) and of change files; BOM is not part of the first value.",
        files={"LOAD00000001.csv": BOM + b'"1",Alice,Austin,2021-10-01\n2,Bob,Boston,2021-09-01\n',
               "LOAD00000002.csv": BOM + b'3,Carol,Chicago,2021-08-01\n',
               "20211017-120000000.csv": BOM + b'I,4,Dan,Denver,2021-10-02\nU,2,Bob,Boston,2021-10-05\n',
               "20211017-130000000.csv": BOM + b'"I",5,Eve,Boston,2021-10-03\n'},
        expect=dict(
            users={1: ["Alice", "Austin", "2021-10-01"],
                   4: ["Dan", "Denver", "2021-10-02"],
                   5: ["Eve", "Boston", "2021-10-03"]},
            counts={"20211017-120000000.csv": {"inserts": 1, "updates": 1}},
        ),
    ),
    dict(
        name="crlf-rows",
        description="CRLF row endings (and LF/CRLF mixed within one file); a NULL last field before CRLF.",
        files={"LOAD00000001.csv": b"1,Alice,Austin,\r\n2,Bob,Boston,2021-09-01\r\n3,Carol,Chicago,2021-08-01\r\n",
               "20211017-120000000.csv": b"I,4,Dan,Denver,2021-10-02\r\nU,2,Bob,Boston,2021-10-05\nD,3,Carol,Chicago,2021-08-01\r\n"},
        expect=dict(
            users={1: ["Alice", "Austin", None],
                   4: ["Dan", "Denver", "2021-10-02"],
                   2: ["Bob", "Boston", "2021-10-05"],
                   3: None},
        ),
    ),
    dict(
        name="no-trailing-newline",
        description="Final row without trailing newline: LOAD file ending in an empty (NULL) field, change files ending in a quoted field / plain field / NULL field.",
        files={"LOAD00000001.csv": b"1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-09-01\n3,Carol,Chicago,",
               "20211017-120000000.csv": b'I,4,Dan,Denver,2021-10-02\nI,5,Eve,Boston,"2021-10-03"',
               "20211017-130000000.csv": b"I,6,Frank,,2021-10-04",
               "20211017-140000000.csv": b"I,7,Gus,Austin,"},
        expect=dict(
            users={3: ["Carol", "Chicago", None],
                   5: ["Eve", "Boston", "2021-10-03"],
                   6: ["Frank", None, "2021-10-04"],
                   7: ["Gus", "Austin", None]},
        ),
    ),
    dict(
        name="op-insert-existing",
        description="I on a key that exists replaces the whole row (counted as replace).",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"I,2,Bobby,Denver,2021-10-10\n"},
        expect=dict(
            users={2: ["Bobby", "Denver", "2021-10-10"]},
            counts={"20211017-120000000.csv": {"replaces": 1}},
        ),
    ),
    dict(
        name="op-update-missing",
        description="U on a missing key inserts it (counted as upsert_of_missing).",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"U,4,Dan,Denver,2021-10-10\n"},
        expect=dict(
            users={4: ["Dan", "Denver", "2021-10-10"]},
            counts={"20211017-120000000.csv": {"upserts_of_missing": 1}},
        ),
    ),
    dict(
        name="op-delete-missing",
        description="D on a missing key does nothing (counted as delete_of_missing); D on a present key deletes.",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"D,99,Nobody,Nowhere,2021-10-10\nD,3,Carol,Chicago,2021-08-01\n"},
        expect=dict(
            user_keys=[1, 2],
            counts={"20211017-120000000.csv": {"deletes": 1, "deletes_of_missing": 1}},
        ),
    ),
    dict(
        name="op-delete-then-insert",
        description="D then I of the same key in one file: the row ends with the I values (1 delete + 1 insert).",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"D,2,Bob,Boston,2021-09-01\nI,2,Bob Two,Austin,2021-10-11\n"},
        expect=dict(
            users={2: ["Bob Two", "Austin", "2021-10-11"]},
            counts={"20211017-120000000.csv": {"inserts": 1, "deletes": 1}},
        ),
    ),
    dict(
        name="op-insert-then-delete",
        description="I then D of a new key in one file: the key is absent at the end (1 insert + 1 delete).",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"I,4,Dan,Denver,2021-10-02\nD,4,Dan,Denver,2021-10-02\n"},
        expect=dict(
            user_keys=[1, 2, 3],
            counts={"20211017-120000000.csv": {"inserts": 1, "deletes": 1}},
        ),
    ),
    dict(
        name="op-insert-then-update",
        description="I then U of a new key in one file: 1 insert + 1 update, the U values win.",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"I,4,Dan,Denver,2021-10-02\nU,4,Daniel,Dallas,2021-10-12\n"},
        expect=dict(
            users={4: ["Daniel", "Dallas", "2021-10-12"]},
            counts={"20211017-120000000.csv": {"inserts": 1, "updates": 1}},
        ),
    ),
    dict(
        name="op-last-change-wins",
        description="Many changes to the same keys across files and within files; only the last change per key counts; untouched keys keep their loaded row.",
        files={"LOAD00000001.csv": LOAD_BASIC + b"4,Dan,Denver,2021-01-01\n",
               "20211017-120000000.csv": b"U,1,A1,Austin,2021-10-02\nU,1,A2,Boston,2021-10-03\nD,2,,,\nI,5,E1,Chicago,2021-10-04\n",
               "20211017-130000000.csv": b"I,2,B3,Denver,2021-10-05\nU,1,A3,Chicago,2021-10-06\nD,5,E1,Chicago,2021-10-04\nU,5,E2,Austin,\n",
               "20211018-000000000.csv": b"D,1,,,\nD,1,,,\nI,1,A4,Austin,2021-10-07\nI,1,A5,Austin,2021-10-08\n"},
        expect=dict(
            user_keys=[1, 2, 3, 4, 5],
            users={1: ["A5", "Austin", "2021-10-08"],
                   2: ["B3", "Denver", "2021-10-05"],
                   3: ["Carol", "Chicago", "2021-08-01"],
                   4: ["Dan", "Denver", "2021-01-01"],
                   5: ["E2", "Austin", None]},
            counts={"20211017-120000000.csv": {"inserts": 1, "updates": 2, "deletes": 1},
                    "20211017-130000000.csv": {"inserts": 1, "updates": 1, "deletes": 1, "upserts_of_missing": 1},
                    "20211018-000000000.csv": {"inserts": 1, "replaces": 1, "deletes": 1, "deletes_of_missing": 1}},
        ),
    ),
    dict(
        name="load-hex-order",
        description="Several LOAD files with hexadecimal counters (…09 < …0A < …0F < …10 < …1A); all unioned; counts.json lists them in hex order.",
        files={"LOAD00000001.csv": b"100,User 00000001,Austin,2021-10-01\n200,Other 00000001,Boston,\n",
               "LOAD00000002.csv": b"101,User 00000002,Austin,2021-10-02\n201,Other 00000002,Boston,\n",
               "LOAD00000009.csv": b"102,User 00000009,Austin,2021-10-03\n202,Other 00000009,Boston,\n",
               "LOAD0000000A.csv": b"103,User 0000000A,Austin,2021-10-04\n203,Other 0000000A,Boston,\n",
               "LOAD0000000F.csv": b"104,User 0000000F,Austin,2021-10-05\n204,Other 0000000F,Boston,\n",
               "LOAD00000010.csv": b"105,User 00000010,Austin,2021-10-06\n205,Other 00000010,Boston,\n",
               "LOAD0000001A.csv": b"106,User 0000001A,Austin,2021-10-07\n206,Other 0000001A,Boston,\n",
               "20211017-120000000.csv": b"U,103,Updated 0A,Austin,2021-10-17\n"},
        expect=dict(
            count_files=["LOAD00000001.csv", "LOAD00000002.csv", "LOAD00000009.csv", "LOAD0000000A.csv",
                         "LOAD0000000F.csv", "LOAD00000010.csv", "LOAD0000001A.csv", "20211017-120000000.csv"],
            user_keys=[100, 101, 102, 103, 104, 105, 106, 200, 201, 202, 203, 204, 205, 206],
            users={103: ["Updated 0A", "Austin", "2021-10-17"]},
        ),
    ),
    dict(
        name="empty-files",
        description="0-byte change files (counted with all zeros) and a 0-byte LOAD file (rows 0) next to a non-empty one; a change file that is only a BOM.",
        files={"LOAD00000001.csv": b"",
               "LOAD00000002.csv": LOAD_BASIC,
               "20211017-120000000.csv": b"",
               "20211017-130000000.csv": b"U,1,Alicia,Austin,2021-10-10\n",
               "20211017-140000000.csv": b"",
               "20211017-150000000.csv": BOM},
        expect=dict(
            counts={"LOAD00000001.csv": {"rows": 0},
                    "20211017-120000000.csv": {},
                    "20211017-150000000.csv": {}},
            users={1: ["Alicia", "Austin", "2021-10-10"]},
        ),
    ),
    dict(
        name="empty-load-only",
        description="A single 0-byte LOAD file and nothing else: both outputs are header-only.",
        files={"LOAD00000001.csv": b""},
        expect=dict(user_keys=[], feature_rows=0),
    ),
    dict(
        name="nulls",
        description="NULL dates (rank after the oldest real date, shared; never count toward the rate but count in n), a city whose dates are all NULL (rank 1, rate 0.0), NULL cities forming one group sorted last, NULL names.",
        files={"LOAD00000001.csv": (b"1,A,Austin,2021-10-01\n2,B,Austin,2021-10-01\n3,C,Austin,2021-09-01\n"
                                    b"4,D,Austin,\n5,,Austin,\n6,F,Denver,\n7,G,Denver,\n"
                                    b"20,N1,,2021-10-01\n21,N2,,2021-10-05\n22,N3,,\n"),
               "20211017-120000000.csv": b"I,23,,,\nI,9,,,\n"},
        expect=dict(
            # Austin: dates 10-01, 10-01, 09-01, NULL, NULL -> dense ranks 1, 1, 2, 3, 3
            features={1: {"rank": 1}, 2: {"rank": 1}, 3: {"rank": 2}, 4: {"rank": 3}, 5: {"rank": 3},
                      20: {"rank": 2}, 21: {"rank": 1}, 22: {"rank": 3}, 23: {"rank": 3}, 9: {"rank": 3}},
            # Denver's dates are all NULL: rank 1, rate 0.0; the NULL city group comes last, state NULL
            cities={"Denver": {"rows": 2, "ranks": [1, 1], "rate": 0.0, "state": "Colorado"},
                    None: {"rows": 5, "state": None, "n": 5, "rate": 0.4}},
            feature_cities=["Austin"] * 5 + ["Denver"] * 2 + [None] * 5,
            users={9: [None, None, None]},
        ),
    ),
    dict(
        name="empty-string-vs-null",
        description='Quoted "" is the empty string, an empty unquoted field is NULL: names and cities; the "" city is its own group, sorted first, and is written as "" while NULL is written as nothing.',
        files={"LOAD00000001.csv": b'1,"",Austin,2021-10-01\n2,,Austin,2021-10-01\n',
               "20211017-120000000.csv": b'I,3,"","",2021-10-02\nI,4,x,,2021-10-02\nI,5,"",,\n'},
        expect=dict(
            users={1: ["", "Austin", "2021-10-01"],
                   2: [None, "Austin", "2021-10-01"],
                   3: ["", "", "2021-10-02"],
                   4: ["x", None, "2021-10-02"]},
            feature_cities=["", "Austin", "Austin", None, None],
            cities={"": {"state": None}},  # not in the map
        ),
    ),
    dict(
        name="login-window-boundary",
        description="as_of 2024-03-01 (leap year): exactly 90 days before counts, 91 does not, future dates and as_of itself count, NULL counts in n only; rates 1/3-style doubles (0.2, 0.25, 1/7, 2/3).",
        files={"LOAD00000001.csv": (b"1,In90,Austin,2023-12-02\n2,Out91,Austin,2023-12-01\n"
                                    b"3,Future,Boston,2024-03-02\n4,Today,Boston,2024-03-01\n"
                                    b"5,Out91,Chicago,2023-12-01\n"
                                    b"6,A,Denver,2024-02-29\n7,B,Denver,2023-12-02\n8,C,Denver,\n"
                                    b"10,A,Miami,2030-01-01\n11,B,Miami,2000-01-01\n12,C,Miami,\n13,D,Miami,2023-11-30\n"
                                    b"20,A,Dallas,2024-01-01\n21,B,Dallas,2023-01-01\n22,C,Dallas,2022-01-01\n23,D,Dallas,2021-01-01\n24,E,Dallas,2020-01-01\n"
                                    b"30,A,Phoenix,2024-02-01\n31,B,Phoenix,2023-02-01\n32,C,Phoenix,2023-02-01\n33,D,Phoenix,\n34,E,Phoenix,\n35,F,Phoenix,2019-02-01\n36,G,Phoenix,2018-02-01\n")},
        as_of="2024-03-01",
        expect=dict(
            cities={"Austin": {"rate": 0.5, "n": 2},  # 90 days counts, 91 doesn't
                    "Boston": {"rate": 1.0, "n": 2},  # future date and as_of itself count
                    "Chicago": {"rate": 0.0, "n": 1},  # 91 days
                    "Denver": {"rate": 2 / 3, "n": 3},  # NULL date in n
                    "Miami": {"rate": 0.25, "n": 4},
                    "Dallas": {"rate": 0.2, "n": 5},
                    "Phoenix": {"rate": 1 / 7, "n": 7}},
        ),
        premises=dict(days_before_as_of={"2023-12-02": 90, "2023-12-01": 91}),
    ),
    dict(
        name="nashville-alias",
        description="City alias Nashville-Davidson -> Nashville in the features table only (merged group, state Tennessee); exact match only (lower-case and trailing-space variants are not aliased).",
        files={"LOAD00000001.csv": (b"1,A,Nashville-Davidson,2021-10-01\n2,B,Nashville,2021-09-01\n"
                                    b"3,C,Nashville-Davidson,2021-08-01\n"),
               "20211017-120000000.csv": b"I,4,D,nashville-davidson,2021-10-02\nI,5,E,Nashville-Davidson ,2021-10-02\n"},
        expect=dict(
            users={1: ["A", "Nashville-Davidson", "2021-10-01"]},  # the users table keeps the source value
            cities={"Nashville": {"users": [3, 2, 1], "ranks": [3, 2, 1], "state": "Tennessee", "n": 3},
                    "nashville-davidson": {"rows": 1, "state": None}},
            features={5: {"city": "Nashville-Davidson ", "state": None}},
        ),
    ),
    dict(
        name="missing-city",
        description="Cities missing from the map get a NULL state; lookup is exact and case-sensitive ('austin', ' Austin', 'Oklahoma city' miss); byte-order sort puts upper case before lower case.",
        files={"LOAD00000001.csv": (b"1,A,Atlantis,2021-10-01\n2,B,Austin,2021-09-01\n3,C,austin,2021-09-01\n"
                                    b"4,D,Oklahoma city,2021-08-01\n5,E,Oklahoma City,2021-08-01\n6,F,Zagreb,2021-08-01\n"
                                    b'7,G," Austin",2021-08-01\n')},
        expect=dict(
            feature_cities=[" Austin", "Atlantis", "Austin", "Oklahoma City", "Oklahoma city", "Zagreb", "austin"],
            cities={"Atlantis": {"state": None}, "Austin": {"state": "Minnesota"},
                    "Oklahoma City": {"state": "Oklahoma"}, "Oklahoma city": {"state": None},
                    "Zagreb": {"state": None}, "austin": {"state": None}, " Austin": {"state": None}},
        ),
    ),
    dict(
        name="fraction-ordering",
        description="Change files whose fraction has 3 to 6 digits are ordered by timestamp VALUE (.09999 < .100 = .1000 < .1225 < .123 = .1230 < .999; integer parsing of the fraction would get this wrong), equal values by file name, plus a previous-day and previous-second file; key 1 is updated in every file so the last writer (v999) is observable, and counts.json shows the order.",
        # every file overwrites key 1 (so the last applied file is visible) and inserts its own key
        files={"LOAD00000001.csv": b"1,Start,Austin,2021-10-01\n",
               "20211017-120000123.csv": b"U,1,v123,Austin,2021-10-02\nI,123,a,Austin,2021-10-02\n",
               "20211017-1200001225.csv": b"U,1,v1225,Austin,2021-10-02\nI,1225,a,Austin,2021-10-02\n",
               "20211017-1200001230.csv": b"U,1,v1230,Austin,2021-10-02\nI,1230,a,Austin,2021-10-02\n",
               "20211017-120000999.csv": b"U,1,v999,Austin,2021-10-02\nI,999,a,Austin,2021-10-02\n",
               "20211017-1200001000.csv": b"U,1,v1000,Austin,2021-10-02\nI,1000,a,Austin,2021-10-02\n",
               "20211017-120000100.csv": b"U,1,v100,Austin,2021-10-02\nI,100,a,Austin,2021-10-02\n",
               "20211017-12000009999.csv": b"U,1,v09999,Austin,2021-10-02\nI,9999,a,Austin,2021-10-02\n",
               "20211016-235959999999.csv": b"U,1,vprevday,Austin,2021-10-02\nI,7,a,Austin,2021-10-02\n",
               "20211017-115959999.csv": b"U,1,v115959,Austin,2021-10-02\nI,8,a,Austin,2021-10-02\n"},
        expect=dict(
            count_files=["LOAD00000001.csv", "20211016-235959999999.csv", "20211017-115959999.csv",
                         "20211017-12000009999.csv", "20211017-120000100.csv", "20211017-1200001000.csv",
                         "20211017-1200001225.csv", "20211017-120000123.csv", "20211017-1200001230.csv",
                         "20211017-120000999.csv"],
            users={1: ["v999", "Austin", "2021-10-02"]},
        ),
    ),
    dict(
        name="date-partitions",
        description="Files in YYYY/MM/DD/ subfolders (LOAD files at the root and in a folder, change files across folders); ordering ignores the folder path.",
        files={"LOAD00000001.csv": b"1,Alice,Austin,2021-10-01\n",
               "2021/10/08/LOAD00000002.csv": b"2,Bob,Boston,2021-10-01\n",
               "2021/10/09/20211009-235959000.csv": b"U,1,first,Austin,2021-10-02\n",
               "2021/10/10/20211010-000000000.csv": b"U,1,second,Austin,2021-10-03\n",
               "2021/10/17/20211017-194324349.csv": b"U,1,third,Austin,2021-10-04\nI,3,Carol,Chicago,2021-10-04\n"},
        expect=dict(
            count_files=["LOAD00000001.csv", "LOAD00000002.csv", "20211009-235959000.csv",
                         "20211010-000000000.csv", "20211017-194324349.csv"],
            users={1: ["third", "Austin", "2021-10-04"]},
        ),
    ),
    dict(
        name="gzip",
        description="Gzipped files (.csv.gz) mixed with plain .csv: gz LOAD, gz change files (one with BOM + CRLF + quoted fields, one gzip of 0 bytes).",
        files={"LOAD00000001.csv.gz": {"gzip": b"1,Alice,Austin,2021-10-01\n2,Bob,Boston,2021-09-01\n"},
               "LOAD00000002.csv": b"3,Carol,Chicago,2021-08-01\n",
               "20211017-120000000.csv.gz": {"gzip": BOM + b'I,4,"Dan, ""D""",Denver,2021-10-02\r\nD,3,,,\r\n'},
               "20211017-130000000.csv": b"U,2,Bobby,Boston,2021-10-03\n",
               "20211017-140000000.csv.gz": {"gzip": b""}},
        expect=dict(
            users={1: ["Alice", "Austin", "2021-10-01"],
                   4: ["Dan, \"D\"", "Denver", "2021-10-02"],
                   2: ["Bobby", "Boston", "2021-10-03"],
                   3: None},
            count_files=["LOAD00000001.csv.gz", "LOAD00000002.csv", "20211017-120000000.csv.gz",
                         "20211017-130000000.csv", "20211017-140000000.csv.gz"],
        ),
    ),
    dict(
        name="ignored-files",
        description="Non-DMS files (README.txt, _SUCCESS, .DS_Store, x.csv.bak, LOAD00000002.csv.tmp, notes.json) at the root and in subfolders are ignored.",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "README.txt": b"this,is,not,a,dms,file\n",
               "_SUCCESS": b"",
               ".DS_Store": b"\x00\x01\xff",
               "x.csv.bak": b"garbage\n",
               "LOAD00000002.csv.tmp": b"1,Dup,Austin,2021-10-01\n",
               "notes.json": b"{}\n",
               "2021/10/17/_SUCCESS": b"",
               "2021/10/17/20211017-120000000.csv": b"U,1,Alicia,Austin,2021-10-10\n",
               "2021/10/17/manifest.txt": b"I,99,x,y,bad\n"},
        expect=dict(
            user_keys=[1, 2, 3],
            users={1: ["Alicia", "Austin", "2021-10-10"]},
            count_files=["LOAD00000001.csv", "20211017-120000000.csv"],
        ),
    ),
    dict(
        name="delete-garbage-values",
        description="D rows carry garbage in the non-key fields (text and impossible/unpadded dates in last_login, a quoted empty date, 1.0 as city); only op, key and field count are validated. Includes a D of a missing key.",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": (b'D,1,whatever,Nowhere,not-a-date\n'
                                          b'D,2,,,2021-02-30\n'
                                          b'D,3,"x","y",""\n'
                                          b'D,77,\xc3\xa9,1.0,2021-2-3\n')},
        expect=dict(
            user_keys=[],
            counts={"20211017-120000000.csv": {"deletes": 3, "deletes_of_missing": 1}},
        ),
    ),
    dict(
        name="int32-boundaries",
        description="Keys -2147483648 and 2147483647 (and -1, 0); users.csv is ordered numerically (negative keys first); changes address the boundary keys.",
        files={"LOAD00000001.csv": b"2147483647,max,Austin,2021-10-01\n-2147483648,min,Austin,2021-10-02\n0,zero,Austin,2021-10-03\n",
               "20211017-120000000.csv": (b"U,2147483647,max2,Austin,2021-10-04\nI,-2147483648,min2,Boston,2021-10-05\n"
                                          b"I,-1,minus one,Boston,2021-10-06\nI,7,seven,Austin,2021-10-04\n")},
        expect=dict(
            user_keys=[-2147483648, -1, 0, 7, 2147483647],
            users={2147483647: ["max2", "Austin", "2021-10-04"],
                   -2147483648: ["min2", "Boston", "2021-10-05"]},
        ),
    ),

    # ---------------------------------------------------------------- error cases
    dict(
        name="error-unknown-op",
        description="Lower-case op 'i' in the second change file (first change file is valid and must not be committed).",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\ni,5,Eve,Boston,2021-10-03\n"},
        error={"code": "unknown_op", "file": "20211017-130000000.csv", "line": 2, "column": 1},
    ),
    dict(
        name="error-unknown-op-null",
        description="Empty (NULL) op field.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b",5,Eve,Boston,2021-10-03\n"},
        error={"code": "unknown_op", "file": "20211017-120000000.csv", "line": 1, "column": 1},
    ),
    dict(
        name="error-field-count-change",
        description="A change row with 6 fields, in the third change file.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\n",
               "20211017-140000000.csv": b"I,5,Eve,Boston,2021-10-03\nI,6,Fay,Boston,2021-10-03,extra\n"},
        error={"code": "field_count", "file": "20211017-140000000.csv", "line": 2},
    ),
    dict(
        name="error-field-count-load",
        description="A LOAD row with 3 fields (one LOAD file of several).",
        files={"LOAD00000001.csv": LOAD_BASIC, "LOAD00000002.csv": b"10,Ten,Austin,2021-10-01\n11,Eleven,Austin\n"},
        error={"code": "field_count", "file": "LOAD00000002.csv", "line": 2},
    ),
    dict(
        name="error-field-count-delete-key-only",
        description="A D row carrying only op and key (2 fields) is a field_count error.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"D,2\n"},
        error={"code": "field_count", "file": "20211017-130000000.csv", "line": 1},
    ),
    dict(
        name="error-bad-int-overflow",
        description="Key 2147483648 (int32 overflow) in the second change file.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"I,2147483647,ok,Austin,2021-10-01\nI,2147483648,bad,Austin,2021-10-01\n"},
        error={"code": "bad_int", "file": "20211017-130000000.csv", "line": 2, "column": 2},
    ),
    dict(
        name="error-bad-int-underflow",
        description="Key -2147483649 in a LOAD file.",
        files={"LOAD00000001.csv": b"-2147483648,ok,Austin,2021-10-01\n-2147483649,bad,Austin,2021-10-01\n"},
        error={"code": "bad_int", "file": "LOAD00000001.csv", "line": 2, "column": 1},
    ),
    dict(
        name="error-bad-int-quoted-empty",
        description='Quoted empty "" key is bad_int (not NULL).',
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b'U,"",x,Austin,2021-10-01\n'},
        error={"code": "bad_int", "file": "20211017-120000000.csv", "line": 1, "column": 2},
    ),
    dict(
        name="error-bad-int-decimal",
        description="Key 1.0 is bad_int.",
        files={"LOAD00000001.csv": b"1,A,Austin,2021-10-01\n1.0,B,Austin,2021-10-01\n"},
        error={"code": "bad_int", "file": "LOAD00000001.csv", "line": 2, "column": 1},
    ),
    dict(
        name="error-bad-int-plus-sign",
        description="Key +5 is bad_int (only -?[0-9]+); in a D row (the key of a D row is validated).",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"D,+5,,,\n"},
        error={"code": "bad_int", "file": "20211017-130000000.csv", "line": 1, "column": 2},
    ),
    dict(
        name="error-bad-int-space",
        description="Key ' 5' (leading space) is bad_int.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b"I, 5,x,Austin,2021-10-01\n"},
        error={"code": "bad_int", "file": "20211017-120000000.csv", "line": 1, "column": 2},
    ),
    dict(
        name="error-bad-date-feb29",
        description="2021-02-29 is not a calendar date (second change file).",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"I,5,Eve,Boston,2020-02-29\nI,6,Fay,Boston,2021-02-29\n"},
        error={"code": "bad_date", "file": "20211017-130000000.csv", "line": 2, "column": 5},
    ),
    dict(
        name="error-bad-date-format",
        description="2021-2-3 (not zero-padded) is bad_date, in a LOAD file.",
        files={"LOAD00000001.csv": b"1,A,Austin,2021-02-03\n2,B,Austin,2021-2-3\n"},
        error={"code": "bad_date", "file": "LOAD00000001.csv", "line": 2, "column": 4},
    ),
    dict(
        name="error-bad-date-quoted-empty",
        description='Quoted empty "" date in a U row is bad_date (only an empty unquoted field is NULL).',
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": b'U,1,A,Austin,""\n'},
        error={"code": "bad_date", "file": "20211017-120000000.csv", "line": 1, "column": 5},
    ),
    dict(
        name="error-bad-date-after-multiline",
        description="A bad date in the row after a quoted field spanning 3 physical lines (LF and CRLF): line is the physical line (4), not the record number (2).",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b'I,5,"Eve\nthe\r\nthird",Boston,2021-10-03\nI,6,Fay,Boston,2021-13-01\n'},
        error={"code": "bad_date", "file": "20211017-130000000.csv", "line": 4, "column": 5},
    ),
    dict(
        name="error-null-key-load",
        description="Empty unquoted key in a LOAD file.",
        files={"LOAD00000001.csv": b"1,A,Austin,2021-10-01\n,B,Austin,2021-10-01\n"},
        error={"code": "null_key", "file": "LOAD00000001.csv", "line": 2, "column": 1},
    ),
    dict(
        name="error-null-key-delete",
        description="Empty unquoted key in a D row of the second change file.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"D,2,,,\nD,,,,\n"},
        error={"code": "null_key", "file": "20211017-130000000.csv", "line": 2, "column": 2},
    ),
    dict(
        name="error-unterminated-quote",
        description="A quoted field opened on line 2 is never closed (file ends inside it); second change file.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b'U,2,Bob,Boston,2021-10-03\nI,5,"Eve,Boston,2021-10-03\nI,6,Fay,Boston,2021-10-03\n'},
        error={"code": "unterminated_quote", "file": "20211017-130000000.csv", "line": 2, "column": 3},
    ),
    dict(
        name="error-bad-quote-bare",
        description='A bare " inside an unquoted field (Bo"b).',
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b'I,5,Bo"b,Boston,2021-10-03\n'},
        error={"code": "bad_quote", "file": "20211017-130000000.csv", "line": 1, "column": 3},
    ),
    dict(
        name="error-bad-quote-after-closing",
        description='Text after a closing quote ("Bob"x) in a LOAD file.',
        files={"LOAD00000001.csv": b'1,A,Austin,2021-10-01\n2,"Bob"x,Boston,2021-10-01\n'},
        error={"code": "bad_quote", "file": "LOAD00000001.csv", "line": 2, "column": 2},
    ),
    dict(
        name="error-bad-quote-after-multiline",
        description='Text after the closing quote of a field that started on line 2 and closes on line 3 ("Bo\\nb"x): line is where the field starts.',
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b'U,2,Bob,Boston,2021-10-03\nI,5,"Bo\nb" ,Boston,2021-10-03\n'},
        error={"code": "bad_quote", "file": "20211017-130000000.csv", "line": 2, "column": 3},
    ),
    dict(
        name="error-blank-line",
        description="An empty line between two rows of the second change file.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\n\nI,5,Eve,Boston,2021-10-03\n"},
        error={"code": "blank_line", "file": "20211017-130000000.csv", "line": 2},
    ),
    dict(
        name="error-blank-line-crlf",
        description="An empty CRLF line in a LOAD file with CRLF endings.",
        files={"LOAD00000001.csv": b"1,A,Austin,2021-10-01\r\n2,B,Austin,2021-10-01\r\n\r\n3,C,Austin,2021-10-01\r\n"},
        error={"code": "blank_line", "file": "LOAD00000001.csv", "line": 3},
    ),
    dict(
        name="error-invalid-utf8",
        description="Byte 0xFF inside the name field on line 3 of the second change file.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-130000000.csv": b"U,2,Bob,Boston,2021-10-03\nI,5,Eve,Boston,2021-10-03\nI,6,F\xffy,Boston,2021-10-03\n"},
        error={"code": "invalid_utf8", "file": "20211017-130000000.csv", "line": 3, "column": 3},
    ),
    dict(
        name="error-invalid-utf8-truncated-sequence",
        description="A truncated 2-byte UTF-8 sequence (0xC3 followed by ',') in the city field of a LOAD file.",
        files={"LOAD00000001.csv": b"1,A,Austin,2021-10-01\n2,B,Z\xc3,2021-10-01\n"},
        error={"code": "invalid_utf8", "file": "LOAD00000001.csv", "line": 2, "column": 3},
    ),
    dict(
        name="error-truncated-gzip",
        description="The second change file is a gzip stream cut in half.",
        files={"LOAD00000001.csv": LOAD_BASIC, "20211017-120000000.csv.gz": {"gzip": GOOD_CHANGE_1},
               "20211017-130000000.csv.gz": {
                   "gzip": b"".join(b"I,%d,User %d,Austin,2021-10-01\n" % (i, i) for i in range(10, 60)),
                   "cut_in_half": True}},
        error={"code": "truncated_gzip", "file": "20211017-130000000.csv.gz"},
    ),
    dict(
        name="error-duplicate-key-across-load",
        description="Key 103 appears in LOAD0000000A and LOAD00000010 (reported in the later file in hex order).",
        files={"LOAD00000009.csv": b"100,A,Austin,2021-10-01\n",
               "LOAD0000000A.csv": b"101,B,Austin,2021-10-01\n103,C,Austin,2021-10-01\n",
               "LOAD00000010.csv": b"102,D,Austin,2021-10-01\n103,E,Austin,2021-10-01\n"},
        error={"code": "duplicate_key", "file": "LOAD00000010.csv", "line": 2, "column": 1},
    ),
    dict(
        name="error-duplicate-key-within-load",
        description="Key 2 appears twice in one LOAD file (second occurrence after a multi-line quoted field).",
        files={"LOAD00000001.csv": b'1,A,Austin,2021-10-01\n2,"B\nB",Austin,2021-10-01\n3,C,Austin,2021-10-01\n2,D,Austin,2021-10-01\n'},
        error={"code": "duplicate_key", "file": "LOAD00000001.csv", "line": 5, "column": 1},
    ),
    dict(
        name="error-bad-file-name-load",
        description="LOADxyz.csv is not a valid DMS file name.",
        files={"LOAD00000001.csv": LOAD_BASIC, "LOADxyz.csv": b"9,X,Austin,2021-10-01\n"},
        error={"code": "bad_file_name", "file": "LOADxyz.csv"},
    ),
    dict(
        name="error-bad-file-name-change",
        description="2021101-1200.csv is not a valid change file name (in a date folder).",
        files={"LOAD00000001.csv": LOAD_BASIC, "2021/10/17/20211017-120000000.csv": GOOD_CHANGE_1,
               "2021/10/17/2021101-1200.csv": b"U,2,Bob,Boston,2021-10-03\n"},
        error={"code": "bad_file_name", "file": "2021101-1200.csv"},
    ),
    dict(
        name="error-duplicate-file-folders",
        description="The same change file name in two date folders.",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "2021/10/17/20211017-120000000.csv": GOOD_CHANGE_1,
               "2021/10/18/20211017-120000000.csv": b"U,2,Bob,Boston,2021-10-03\n"},
        error={"code": "duplicate_file", "file": "20211017-120000000.csv"},
    ),
    dict(
        name="error-duplicate-file-gz",
        description="X.csv beside X.csv.gz (reported with the .csv name).",
        files={"LOAD00000001.csv": LOAD_BASIC,
               "20211017-120000000.csv": GOOD_CHANGE_1,
               "20211017-120000000.csv.gz": {"gzip": GOOD_CHANGE_1}},
        error={"code": "duplicate_file", "file": "20211017-120000000.csv"},
    ),
    dict(
        name="error-no-full-load",
        description="Change files but no LOAD file (no file/line/column).",
        files={"20211017-120000000.csv": GOOD_CHANGE_1, "README.txt": b"LOAD00000001.csv is missing\n"},
        error={"code": "no_full_load"},
    ),
]
