"""review.git: parsing `git diff --name-status -z`, and reading what changed from a real repository."""

from __future__ import annotations

from promptwise.review.git import Change, Repo, _parse_name_status


def test_name_status_records():
    out = "M\0prompts/a.prompt\0A\0new file.prompt\0D\0gone.prompt\0R087\0old.prompt\0sub/new.prompt\0"
    assert _parse_name_status(out) == [
        Change("M", "prompts/a.prompt", "prompts/a.prompt"),
        Change("A", "new file.prompt"),
        Change("D", "gone.prompt", "gone.prompt"),
        Change("R", "sub/new.prompt", "old.prompt"),
    ]


def test_copies_type_changes_and_unmerged_paths():
    out = "C100\0a.prompt\0copy of a.prompt\0T\0link.prompt\0U\0both.prompt\0"
    assert _parse_name_status(out) == [
        Change("A", "copy of a.prompt"),  # a copy is a new file; the original is unchanged
        Change("M", "link.prompt", "link.prompt"),
        Change("M", "both.prompt", "both.prompt"),
    ]


def test_paths_with_unicode_tabs_and_newlines_survive_nul_separation():
    odd = "prompts/ça\tva\nbien.prompt"
    assert _parse_name_status(f"R100\0{odd}\0prompts/日本語.prompt\0") == [Change("R", "prompts/日本語.prompt", odd)]
    assert _parse_name_status("") == []


def test_changes_from_a_repository(gitrepo):
    g = gitrepo
    g.write("keep.prompt", "x\n")
    g.write("old name.prompt", "A long enough text for git to see the rename of this file.\n" * 3)
    g.write("gone.prompt", "bye\n")
    base = g.commit("base")
    g.remove("old name.prompt")
    g.write("new näme.prompt", "A long enough text for git to see the rename of this file.\n" * 3)
    g.remove("gone.prompt")
    g.write("keep.prompt", "y\n")
    g.git("add", "-A")
    g.write("untracked é.prompt", "new\n")
    with Repo.find(g.root / "keep.prompt") as repo:
        found = sorted(repo.changes(base), key=lambda c: c.path)
        assert found == [
            Change("D", "gone.prompt", "gone.prompt"),
            Change("M", "keep.prompt", "keep.prompt"),
            Change("R", "new näme.prompt", "old name.prompt"),
            Change("A", "untracked é.prompt"),
        ]
        tree = repo.tree(base)
        data, size = repo.read(tree["gone.prompt"].sha, 100)
        assert (data, size) == (b"bye\n", 4) and repo.blobs_read == 1
        line = b"A long enough text for git to see the rename of this file.\n"
        assert repo.read(tree["old name.prompt"].sha, 10) == (None, len(line) * 3)  # over the limit: not returned
        assert repo.grep(["bye"], base) == ["gone.prompt"]
        assert repo.grep(["nothing matches this"]) == []
