package scan

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// IgnoreFiles are read in every directory walked, when present.
var IgnoreFiles = []string{".custosignore", ".gitignore"}

// Path scans a file, or every file under a directory (in lexical order),
// skipping what the exclude patterns and ignore files name, files larger
// than MaxSize, binary files and .git directories.
func (s *Scanner) Path(ctx context.Context, root string) error {
	info, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return s.file(ctx, root, info)
	}
	ig := &Ignore{}
	for _, p := range s.Excludes {
		ig.Add("", p)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			s.skip(p, "unreadable")
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		if d.IsDir() {
			if d.Name() == ".git" || (rel != "" && ig.Match(rel, true)) {
				return fs.SkipDir
			}
			for _, name := range IgnoreFiles {
				if f, err := os.Open(filepath.Join(p, name)); err == nil {
					err = ig.Read(rel, f)
					f.Close()
					if err != nil {
						return fmt.Errorf("%s: %w", filepath.Join(p, name), err)
					}
				}
			}
			return nil
		}
		if ig.Match(rel, false) || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			s.skip(p, "unreadable")
			return nil
		}
		return s.file(ctx, p, info)
	})
}

func (s *Scanner) file(ctx context.Context, p string, info fs.FileInfo) error {
	if s.MaxSize > 0 && info.Size() > s.MaxSize {
		s.skip(p, "larger than --max-size")
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		s.skip(p, "unreadable")
		return nil
	}
	defer f.Close()
	return s.Reader(ctx, filepath.ToSlash(p), f, FormatOf(p))
}
